//! Plumbing every service shares, so that gateway, coffee and beat look and behave alike:
//! typed configuration from environment variables, tracing, Prometheus metrics, the tower
//! layers applied to every router, problem+json error bodies and graceful shutdown.

pub mod config;
pub mod http;
pub mod metrics;
pub mod problem;
pub mod shutdown;
pub mod telemetry;
