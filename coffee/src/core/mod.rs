//! The generic machinery every module uses, written once so modules hold only their rules: the DAO
//! contract and its Postgres and ClickHouse implementations, the request context with its lazy
//! sessions, the middleware that opens and closes them, and the storage layer's own error.

pub mod clickhouse;
pub mod context;
pub mod dao;
pub mod error;
pub mod middleware;
pub mod observe;
pub mod postgres;
