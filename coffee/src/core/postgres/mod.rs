//! The Postgres side of the generic DAO: the lazy per-request transaction and [`PgDao`].

mod dao;
pub mod session;

pub use dao::{push_where, PgDao};
pub use session::PgSession;
