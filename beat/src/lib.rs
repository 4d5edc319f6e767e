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
    let (pg, ch, redis) = (state.pg.clone(), state.ch.clone(), state.redis.clone());
    let checks = vec![
        (
            "postgres",
            check(move || {
                let pg = pg.clone();
                async move { store::pg::ping(&pg).await }
            }),
        ),
        (
            "clickhouse",
            check(move || {
                let ch = ch.clone();
                async move { store::ch::ping(&ch).await }
            }),
        ),
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
