//! coffee, the partner-facing REST API (port 7179).
//!
//! Layers: `api` (axum handlers and DTOs: parse the request, map the answer) → `service` (the
//! rules: plan gating, tenancy, quotas) → storage, through the generic DAO ([`core::dao`]), or a
//! module's own `repo.rs` for the SQL the DAO does not express (aggregates, joins, tables chosen
//! at run time). A module reaches another through its service. Every API request passes the
//! context middleware (tenant headers → `RequestContext`) and the session middleware (deadline,
//! commit or rollback of the lazily opened Postgres transaction and ClickHouse session).
//!
//! # Layout
//!
//! - [`config`]: the typed configuration, read once from the environment at start-up.
//! - [`core`]: what every module uses: the DAO contract and its Postgres and ClickHouse
//!   implementations, the request context with its lazy sessions, the middleware that opens and
//!   ends them, the ClickHouse pool, every store call's deadline and breaker, and the storage
//!   layer's own error (`core::error::StoreError`, mapped to a status only by [`error`]).
//! - [`modules`]: one folder per capability, each with its own `router()`: `profile` (creators,
//!   search), `collection` (partners' collections of profiles and posts), `analytics` (growth
//!   over the time series), `leaderboard` (monthly rankings), `usage` (what a partner used, the
//!   FREE plan's quota), `identity` (login, logout, verify, the revocation propagator) and
//!   `partner` (contracts and plans).
//! - [`domain`]: the small types every module speaks (platform, handle, a page of results) and
//!   the request values parsed at the edge (month, category slug, collection name).
//! - [`error`]: the one API error enum and how each variant, storage failures included,
//!   answers (problem+json).
//! - [`state`]: what handlers reach (pools, clients, config), built once by [`state()`].

pub mod config;
pub mod core;
pub mod domain;
pub mod error;
pub mod modules;
pub mod state;
#[cfg(feature = "testing")]
pub mod testing;

use std::sync::Arc;

use axum::middleware::from_fn_with_state;
use axum::routing::get;
use axum::Router;
use breaker::Breaker;
use platform::config::PgConfig;
use platform::http::{ops_router, optional, required, with_common_layers, Server};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use config::Config;
pub use state::AppState;

use crate::core::clickhouse::ChPool;
use crate::core::middleware::{context::context, session::session};
use crate::modules::identity::tokens::TokenKeys;
use crate::modules::usage::log::UsageLog;
use crate::modules::{analytics, api_key, collection, identity, leaderboard, partner, profile, usage};

#[derive(OpenApi)]
#[openapi(
    info(title = "coffee", description = "Influencer discovery, collections, analytics and leaderboards"),
    components(schemas(crate::modules::analytics::dao::Granularity))
)]
struct ApiDoc;

/// Every API route with its OpenAPI operation, before the per-request layers.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(profile::api::router())
        .merge(collection::api::router())
        .merge(leaderboard::api::router())
        .merge(analytics::api::router())
        .merge(usage::api::router())
        .merge(identity::api::router())
        .merge(partner::api::router())
        .merge(api_key::api::router())
}

/// The OpenAPI 3 document of every API route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    document(api().split_for_parts().1)
}

/// The finishing touches on the generated document: the error answers, and what the derive
/// cannot say (utoipa 5.5 renders a struct's `min_properties` as `maxProperties`).
fn document(mut doc: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    platform::openapi::declare_problems(&mut doc);
    let schemas = doc.components.as_mut().map(|c| &mut c.schemas);
    if let Some(utoipa::openapi::RefOr::T(utoipa::openapi::Schema::Object(patch))) =
        schemas.and_then(|s| s.get_mut("CollectionPatch"))
    {
        patch.min_properties = Some(1); // a patch changes something
    }
    doc
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let (api, doc) = api().split_for_parts();
    let doc = document(doc);
    let api = api
        .route_layer(from_fn_with_state(state.clone(), session))
        .route_layer(from_fn_with_state(state.clone(), context))
        .route_layer(from_fn_with_state(
            platform::openapi::DeclaredQueries::of(&doc),
            platform::openapi::refuse_undeclared_query,
        ))
        .route("/coffee/openapi.json", platform::openapi::route(&doc))
        // liveness under the module's own prefix, so it is reachable through the gateway: an
        // authenticated caller can check the whole path (edge, auth, proxy, coffee) in one call
        .route("/coffee/health", get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }))
        .with_state(state.clone());
    let api = platform::http::body_limit(api, state.config.server.max_body_bytes);
    let checks = vec![
        // coffee's core job (identity, profiles, collections, usage) is Postgres; analytics
        // answer 503 without ClickHouse, sessions fall back to Postgres without Redis
        required("postgres", store::pg::ready_check(&state.pg)),
        optional("clickhouse", store::ch::ready_check(state.ch.client())),
        optional("redis_cluster", store::redis_cluster::ready_check(&state.redis)),
    ];
    with_common_layers(api.merge(ops_router(checks, platform::metrics::install("coffee"))))
}

/// Connects to the stores and builds the state (pools are sized by `PG_MAX_OPEN_CONN`,
/// `PG_MAX_IDLE_CONN` and `CH_MAX_OPEN_CONN`; the usage log has one connection of its own).
pub async fn state(config: Config) -> anyhow::Result<AppState> {
    let pg = store::pg::GuardedPool::connect(
        &config.pg,
        config.slow_query,
        "bulbul",
        config.pg_query_timeout,
        Breaker::new("coffee_breaker_open", "postgres", config.pg_breaker),
    );
    if let Some(probe) = config.pg_probe {
        pg.watch(&config.pg, probe);
    }
    let breaker = Breaker::new("coffee_breaker_open", "clickhouse", config.ch_breaker);
    let client = store::ch::client_for_service(&config.ch).await;
    if let Some(probe) = config.ch_probe {
        breaker::watch(&breaker, probe, store::ch::ChProbe(client.clone()));
    }
    let ch = ChPool::new(client, config.ch.max_open_conns).with_guard(config.ch_query_timeout, breaker);
    let ch = Arc::new(ch);
    crate::core::observe::sample_pools(pg.pool().clone(), ch.clone());
    // the usage log writes through its own connection (see modules::usage::log)
    let usage_log_pool = store::pg::GuardedPool::connect(
        &PgConfig { max_open_conns: 1, max_idle_conns: 1, ..config.pg.clone() },
        config.slow_query,
        "bulbul-usage-log",
        config.pg_query_timeout,
        Breaker::new("coffee_breaker_open", "postgres_usage_log", config.pg_breaker),
    );
    // lazy: coffee starts and logs people in while Redis is down (sessions live in Postgres)
    let redis = store::redis_cluster::connect_lazy(&config.redis)?;
    let sessions = store::sessions::SessionCache::new(
        redis.clone(),
        &config.redis_key_prefix,
        config.redis.timeout,
        Breaker::new("coffee_breaker_open", "redis_cluster", config.redis.breaker),
    );
    Ok(AppState::new(state::Services {
        usage_log: UsageLog::start(usage_log_pool, config.slow_query),
        pg,
        ch,
        redis,
        sessions,
        tokens: Arc::new(TokenKeys::new(&config.hmac_key(), &config.jwt_issuer)),
        session_stats: Arc::default(),
        config: Arc::new(config),
    }))
}

/// How often logouts that Redis missed are retried.
const REVOCATION_RETRY_EVERY: std::time::Duration = std::time::Duration::from_secs(2);

/// Connects to the stores and binds `SERVER_HOST:PORT` (port 0 picks a free port); serve with
/// [`Server::run_until_stopped`], which writes the usage log's queued events and closes the
/// Postgres connections before returning.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    let addr = config.server.addr();
    let state = state(config).await?;
    let usage_log = state.usage_log.clone();
    let pg = state.pg.clone();
    let stop = tokio_util::sync::CancellationToken::new();
    identity::revocations::spawn(state.pg.pool().clone(), state.sessions.clone(), REVOCATION_RETRY_EVERY, stop.clone());
    Ok(Server::bind(&addr, router(state)).await?.on_stopped(async move {
        stop.cancel();
        usage_log.shutdown().await;
        pg.close().await;
    }))
}
