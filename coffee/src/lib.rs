//! coffee, the partner-facing REST API (port 7179).
//!
//! So far it owns its connections (a lazily connecting Postgres pool, a ClickHouse client, a
//! Redis Cluster connection) and reports on them through `/health`, `/ready` and `/metrics`;
//! the API modules build on this state.

pub mod config;

use platform::http::{ops_router, with_common_layers, Server};

pub use config::Config;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub pg: sqlx::PgPool,
    pub ch: clickhouse::Client,
    pub redis: redis::cluster_async::ClusterConnection,
}

/// The whole HTTP surface.
pub fn router(state: &AppState) -> axum::Router {
    let checks = vec![
        ("postgres", store::pg::ready_check(&state.pg)),
        ("clickhouse", store::ch::ready_check(&state.ch)),
        ("redis_cluster", store::redis_cluster::ready_check(&state.redis)),
    ];
    with_common_layers(ops_router(checks, platform::metrics::install("coffee")))
}

/// Connects to the stores and binds `SERVER_HOST:PORT` (port 0 picks a free port); serve with
/// [`Server::run_until_stopped`].
pub async fn build(config: Config) -> anyhow::Result<Server> {
    let state = AppState {
        pg: store::pg::pool(&config.pg, config.slow_query),
        ch: store::ch::client(&config.ch).await?,
        redis: store::redis_cluster::connect(&config.redis).await?,
    };
    Ok(Server::bind(&config.server.addr(), router(&state)).await?)
}
