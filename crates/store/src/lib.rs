//! How services reach the platform's stores, built from their typed configuration, and the
//! schemas those stores carry. Postgres is the transactional store; ClickHouse holds the time
//! series and leaderboard aggregates; Redis Cluster holds sessions and rate-limit counters.

pub mod api_keys;
pub mod ch;
pub mod pg;
pub mod redis_cluster;
pub mod schema;
pub mod sessions;
