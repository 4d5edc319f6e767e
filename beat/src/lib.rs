//! beat, the scraping service (port 8000).
//!
//! So far it holds its connections (Postgres for the task queue and credentials, ClickHouse for
//! time series, single-node Redis for rate-limit counters) and reports on them through
//! `/health`, `/ready` and `/metrics`; the workers and provider adapters build on this.

pub mod config;

use platform::http::{check, ops_router, with_common_layers, Server};

pub use config::Config;

#[derive(Clone)]
pub struct AppState {
    pub pg: sqlx::PgPool,
    pub ch: clickhouse::Client,
    pub redis: redis::aio::ConnectionManager,
}

pub fn router(state: &AppState) -> axum::Router {
    let redis = state.redis.clone();
    let checks = vec![
        ("postgres", store::pg::ready_check(&state.pg)),
        ("clickhouse", store::ch::ready_check(&state.ch)),
        (
            "redis",
            check(move || {
                let mut redis = redis.clone();
                async move {
                    redis::cmd("PING").query_async::<String>(&mut redis).await.map(drop).map_err(|e| e.to_string())
                }
            }),
        ),
    ];
    with_common_layers(ops_router(checks, platform::metrics::install("beat")))
}

/// Connects to the stores and binds `SERVER_HOST:PORT` (port 0 picks a free port); serve with
/// [`Server::run_until_stopped`].
pub async fn build(config: Config) -> anyhow::Result<Server> {
    let state = AppState {
        pg: store::pg::pool(&config.pg, std::time::Duration::from_millis(500)),
        ch: store::ch::client(&config.ch).await?,
        redis: redis::Client::open(config.redis_url.as_str())?.get_connection_manager().await?,
    };
    Ok(Server::bind(&config.server.addr(), router(&state)).await?)
}
