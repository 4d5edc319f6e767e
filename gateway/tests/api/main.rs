//! The gateway's integration tests, one binary: each test runs its own gateway(s) in front of a
//! real coffee, on the real test stack (Postgres, ClickHouse, the 3-node Redis Cluster), with
//! its own databases and Redis key prefix. Degraded-mode tests run a Redis Cluster of their own
//! so they can stop it.

mod api_keys;
mod auth;
mod browser;
mod contract;
mod dashboard;
mod degraded;
mod edge;
mod limits;
mod ops;
mod revocation;
mod soak;
mod support;
