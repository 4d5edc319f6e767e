//! coffee's integration tests, one binary: every module starts its own coffee on the real test
//! stack (own Postgres and ClickHouse databases, own Redis key prefix) through `support`, so the
//! tests run in parallel without seeing each other's data.

mod analytics;
mod api_keys;
mod collections;
mod contract;
mod dao;
mod faults;
mod identity;
mod openapi;
mod ops;
mod profiles;
mod reingest;
mod sessions;
mod shards;
mod support;
mod usage_log;
