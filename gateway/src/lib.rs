//! gateway, the edge every browser and partner-API call enters through (port 8009).
//!
//! So far it holds its Redis Cluster connection (the session cache's second tier) and reports on
//! it through `/health`, `/ready` and `/metrics`; authentication and proxying build on this.

pub mod config;

use platform::http::{ops_router, with_common_layers, Server};

pub use config::Config;

#[derive(Clone)]
pub struct AppState {
    pub redis: redis::cluster_async::ClusterConnection,
}

pub fn router(state: &AppState) -> axum::Router {
    let checks = vec![("redis_cluster", store::redis_cluster::ready_check(&state.redis))];
    with_common_layers(ops_router(checks, platform::metrics::install("gateway")))
}

/// Connects to the stores and binds `SERVER_HOST:PORT` (port 0 picks a free port); serve with
/// [`Server::run_until_stopped`].
pub async fn build(config: Config) -> anyhow::Result<Server> {
    let state = AppState { redis: store::redis_cluster::connect(&config.redis).await? };
    Ok(Server::bind(&config.server.addr(), router(&state)).await?)
}
