//! gateway, the edge every browser and partner-API call enters through (port 8009).
//!
//! Per request: CORS (preflights answered here) → request id, trace context, trace span and
//! metrics (common layers) → only known modules (`/coffee`, `/identity`, `/partners`, `/beat`;
//! anything else is a 404 before authentication) → [`auth::authenticate`] (body size, tenant
//! headers stripped, JWT, the session tiers: moka → Redis Cluster `session:{<sid>}` → coffee's
//! identity, the partner's plan, the edge rate limits, trusted tenant headers injected) →
//! [`proxy::forward`] to the module (tenant headers signed, hop-by-hop headers dropped).
//! `/openapi.json` is the partner API's one document ([`openapi`]).
//! Every other path falls through to [`dashboard`]: the partner dashboard's files and pages.
//!
//! Layout: [`auth`] (the middleware and token checks), [`session`] (the session tiers and the
//! invalidation listener), [`plan`] (partner plans, served stale while coffee is away),
//! [`limits`] (edge rate limits), [`upstream`] (the gateway's own calls to coffee, with their
//! circuit breakers from the `breaker` crate), [`proxy`], [`cors`], [`dashboard`].
//!
//! Degraded modes: the gateway starts and serves without Redis (sessions from memory and
//! identity, limits fail open, `/heartbeat` says 503) and recovers when Redis returns.

pub mod auth;
pub mod config;
pub mod cors;
pub mod dashboard;
pub mod error;
pub mod limits;
pub mod openapi;
pub mod plan;
pub mod proxy;
pub mod session;
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;
pub mod upstream;

use std::sync::Arc;

use anyhow::Context as _;

use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use platform::config::ExposeSecret;
use platform::http::{common_layers_with, ops_router, optional, Server};
use platform::problem::Problem;

pub use config::Config;
pub use state::AppState;

use crate::auth::token::TokenVerifier;
use crate::limits::EdgeLimiter;
use crate::plan::PlanResolver;
use crate::session::SessionTiers;
use crate::upstream::identity::IdentityClient;
use breaker::Breaker;

pub fn router(state: AppState) -> Router {
    // nothing the gateway cannot route around: without Redis it serves sessions from memory
    // and identity, and its limits fail open
    let checks = vec![optional("redis_cluster", store::redis_cluster::ready_check(&state.redis))];
    let mut modules = Router::new();
    for module in proxy::COFFEE_MODULES {
        modules = modules
            .route(&format!("/{module}"), any(proxy::forward))
            .route(&format!("/{module}/{{*rest}}"), any(proxy::forward));
    }
    for part in proxy::BEAT_ROUTES {
        modules = modules.route(&format!("/{}/{part}/{{*rest}}", proxy::BEAT_MODULE), any(proxy::forward));
    }
    let modules = modules
        .route_layer(from_fn_with_state(state.clone(), auth::authenticate))
        .route("/heartbeat", get(heartbeat))
        .route("/openapi.json", get(openapi::document))
        .with_state(state.clone());
    let routes = ops_router(checks, platform::metrics::install("gateway")).merge(modules);
    common_layers_with(
        dashboard::fallback(routes, state.config.dashboard_dir.as_deref()),
        Some(cors::layer(&state.config.cors_origins)),
    )
}

/// The liveness route load balancers are configured with (`/heartbeat`): 200 when Redis answers,
/// 503 otherwise (the gateway still serves cached sessions then, but a balancer should prefer a
/// healthy peer).
async fn heartbeat(State(state): State<AppState>) -> Response {
    let mut conn = state.redis.clone();
    match tokio::time::timeout(state.config.redis.timeout * 2, store::redis_cluster::ping(&mut conn)).await {
        Ok(Ok(())) => axum::Json(serde_json::json!({ "status": "ok" })).into_response(),
        Ok(Err(e)) => {
            // the cause is the operators' (logged), not the caller's
            tracing::warn!(error = %e, "heartbeat: redis failed");
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "redis is unavailable").into_response()
        }
        Err(_) => Problem::new(StatusCode::SERVICE_UNAVAILABLE, "redis did not answer in time").into_response(),
    }
}

/// Builds the state. Redis is connected lazily: the gateway starts while Redis is down and
/// uses it as soon as it answers.
pub async fn state(config: Config) -> anyhow::Result<AppState> {
    let redis = store::redis_cluster::connect_lazy(&config.redis)?;
    let http = reqwest::Client::builder().build()?;
    let breaker = |name| Breaker::new("gateway_breaker_open", name, config.identity_breaker);
    let identity = IdentityClient::new(http.clone(), &config.coffee_url, config.identity_timeout, breaker("identity"));
    let cache = store::sessions::SessionCache::new(
        redis.clone(),
        &config.redis_key_prefix,
        config.redis.timeout,
        Breaker::new("gateway_breaker_open", "redis_cluster", config.redis.breaker),
    );
    let sizing = session::Sizing {
        ttl: config.session_cache_ttl,
        capacity: config.session_cache_capacity,
        // longer than any credential stays in memory, plus a load in flight
        revoked_for: config.session_cache_ttl + config.server.request_timeout,
    };
    let keys = Arc::new(session::keys::KeyTiers::new(cache.clone(), identity.clone(), sizing, config.hooks.clone()));
    let sessions = Arc::new(SessionTiers::new(cache, identity, sizing, config.hooks.clone()));
    // the background work ends with the state: when the server has stopped and the last
    // request holding the state is done
    let background = tokio_util::sync::CancellationToken::new();
    session::invalidation::listen(
        config.redis.clone(),
        &config.redis_key_prefix,
        session::invalidation::Listeners { sessions: sessions.clone(), keys: keys.clone() },
        config.invalidation_ping,
        background.clone(),
    )
    .await;
    keys.clone().spawn_reporter(config.api_key_use_report, background.clone());
    // guarded from here on, so a failure below ends the listener too
    let background = background.drop_guard();
    sample_cache_size(&sessions);
    Ok(AppState::new(state::Services {
        tokens: TokenVerifier::new(config.hmac_key.expose_secret(), &config.jwt_issuer, config.jwt_leeway),
        plans: PlanResolver::new(
            http.clone(),
            &config.coffee_url,
            config.plan_cache_ttl,
            config.plan_stale_max,
            config.identity_timeout,
            breaker("partner"),
            config.tenant_signing_key.clone(),
        ),
        limits: EdgeLimiter::new(
            ratelimit::SlotRouted::new(
                redis.clone(),
                store::redis_cluster::node_settings(&config.redis),
                config.redis.timeout,
            ),
            &config.redis_key_prefix,
            config.limits.clone(),
            config.redis.breaker,
        )?,
        http: proxy::client(),
        upstreams: proxy::Upstreams {
            coffee: proxy::Upstream::parse(&config.coffee_url).context("COFFEE_URL")?,
            beat: proxy::Upstream::parse(&config.beat_url).context("BEAT_URL")?,
        },
        documents: openapi::Documents::new(http.clone(), config.identity_timeout, &config.coffee_url, &config.beat_url),
        sessions,
        keys,
        redis,
        config,
        _background: background,
    }))
}

/// `gateway_session_cache_entries`, every 10 s, for as long as the tiers exist.
fn sample_cache_size(sessions: &Arc<SessionTiers>) {
    let weak = Arc::downgrade(sessions);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
        loop {
            tick.tick().await;
            let Some(sessions) = weak.upgrade() else { return };
            metrics::gauge!("gateway_session_cache_entries").set(sessions.cached() as f64);
        }
    });
}

/// Builds the state and binds `SERVER_HOST:PORT` (port 0 picks a free port); serve with
/// [`Server::run_until_stopped`].
pub async fn build(config: Config) -> anyhow::Result<Server> {
    let addr = config.server.addr();
    Ok(Server::bind(&addr, router(state(config).await?)).await?)
}
