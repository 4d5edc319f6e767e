//! The ClickHouse side of the generic DAO: the lazy per-request session and [`ChDao`].

mod dao;
mod pool;
mod session;

pub use dao::ChDao;
pub use pool::{ChLease, ChPool};
pub use session::{ChSession, PendingWrite};
