//! gateway, the edge every browser and partner-API call enters through (port 8009).
//!
//! Per request: request id → trace → metrics (common layers) → [`auth::authenticate`] (JWT,
//! then the session tiers: moka → Redis Cluster `session:{sid}` → coffee's identity; the
//! partner's plan; tenant headers stripped and re-injected) → [`proxy::forward`] to the module.

pub mod auth;
pub mod config;
pub mod error;
pub mod plan;
pub mod proxy;
pub mod session;
pub mod state;

use std::sync::Arc;

use axum::middleware::from_fn_with_state;
use axum::routing::any;
use axum::Router;
use platform::config::ExposeSecret;
use platform::http::{ops_router, with_common_layers, Server};

pub use config::Config;
pub use state::AppState;

use crate::auth::token::TokenVerifier;
use crate::plan::PlanResolver;
use crate::session::SessionTiers;

pub fn router(state: AppState) -> Router {
    let checks = vec![("redis_cluster", store::redis_cluster::ready_check(&state.redis))];
    let proxied = Router::new()
        .route("/{module}", any(proxy::forward))
        .route("/{module}/{*rest}", any(proxy::forward))
        .layer(from_fn_with_state(state.clone(), auth::authenticate))
        .with_state(state);
    with_common_layers(ops_router(checks, platform::metrics::install("gateway")).merge(proxied))
}

/// Connects to Redis, subscribes to session invalidations and builds the state.
pub async fn state(config: Config) -> anyhow::Result<AppState> {
    let redis = store::redis_cluster::connect(&config.redis).await?;
    let http = reqwest::Client::builder().timeout(config.server.request_timeout).build()?;
    let sessions = Arc::new(SessionTiers::new(
        redis.clone(),
        config.redis_key_prefix.clone(),
        http.clone(),
        &config.coffee_url,
        config.session_cache_ttl,
        config.session_cache_capacity,
    ));
    session::invalidation::listen(config.redis.clone(), &config.redis_key_prefix, sessions.clone()).await?;
    Ok(AppState::new(state::Services {
        tokens: TokenVerifier::new(config.hmac_key.expose_secret()),
        plans: PlanResolver::new(http, &config.coffee_url, config.plan_cache_ttl),
        http: proxy::client(),
        sessions,
        redis,
        config,
    }))
}

/// Connects and binds `SERVER_HOST:PORT` (port 0 picks a free port); serve with
/// [`Server::run_until_stopped`].
pub async fn build(config: Config) -> anyhow::Result<Server> {
    let addr = config.server.addr();
    Ok(Server::bind(&addr, router(state(config).await?)).await?)
}
