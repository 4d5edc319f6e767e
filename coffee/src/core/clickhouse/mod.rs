//! The ClickHouse side of the generic DAO: the lazy per-request session and [`ChDao`].

mod dao;
mod session;

pub use dao::ChDao;
pub use session::{ChSession, PendingWrite};
