//! beat, the scraping service (port 8000): it refreshes Instagram and YouTube creators from
//! third-party sources behind stacked Redis rate limits and per-source limits, rotating
//! credentials the providers throttle, and stores them in Postgres (the profile and posts) and
//! ClickHouse (the day's snapshot in the time series).
//!
//! Layout:
//! - [`api`]: the HTTP API (`GET /profiles/{platform}/byhandle/{handle}`, `/openapi.json`).
//! - [`providers`]: one adapter per source behind the `Provider` trait, the normalized model,
//!   and `Call`, through which every provider request passes its limit and the request log.
//! - [`credentials`]: picking a usable key per source, benching throttled ones with back-off.
//! - [`pipeline`]: the refresh itself (failover across sources, single flight), the SQL in
//!   `repo`, the ClickHouse snapshot writer, the request log, the sources' limits.
//! - [`queue`]: the Postgres task queue (`repo`: claim, leases, fenced outcomes, retries;
//!   `worker`: the flows' claim loops, LISTEN/NOTIFY wake-up, heartbeats, reaper, drain).
//! - [`simulator`]: a local stand-in for the providers, for the dev stack and tests only.

pub mod api;
pub mod config;
pub mod credentials;
pub mod error;
pub mod pipeline;
pub mod providers;
pub mod queue;
pub mod service;
pub mod simulator;
#[cfg(feature = "testing")]
pub mod testing;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use breaker::Breaker;
use platform::config::ExposeSecret;
use platform::http::{check, ops_router, optional, required, with_common_layers, Server};
use ratelimit::{Limiter, StackPolicy};
use redis::aio::ConnectionManager;

pub use config::Config;
use credentials::Credentials;
use pipeline::request_log::RequestLog;
use pipeline::snapshots::Snapshots;
use pipeline::sources::SourceLimits;
use pipeline::Refresher;
use providers::Source;

/// Shared by every request (see [`platform::state`]).
pub type AppState = platform::state::Shared<Services>;

pub struct Services {
    /// Postgres behind the API's deadline and breaker (`PG_QUERY_TIMEOUT_MS`, `PG_BREAKER_*`).
    pub pg: store::pg::GuardedPool,
    pub refresher: Arc<Refresher>,
    pub limiter: Limiter<ConnectionManager>,
    pub refresh_limits: Arc<StackPolicy>,
    pub refresh_max_age: Duration,
    /// The flows tasks may name.
    pub flows: Arc<Vec<queue::worker::Flow>>,
}

fn ops(pg: &sqlx::PgPool, ch: &clickhouse::Client, redis: &ConnectionManager) -> axum::Router {
    let redis = redis.clone();
    // beat's core job (the queue, stored profiles, the refresh limits) needs Postgres and Redis;
    // without ClickHouse only refreshes fail (they cannot load their day's time series)
    let checks = vec![
        required("postgres", store::pg::ready_check(pg)),
        optional("clickhouse", store::ch::ready_check(ch)),
        required(
            "redis",
            check(move || {
                let mut redis = redis.clone();
                async move {
                    redis::cmd("PING").query_async::<String>(&mut redis).await.map(drop).map_err(|e| e.to_string())
                }
            }),
        ),
    ];
    ops_router(checks, platform::metrics::install("beat"))
}

/// Connects to the stores and binds `SERVER_HOST:PORT` (port 0 picks a free port); serve with
/// [`Server::run_until_stopped`]. Postgres may be down at start-up: beat then reports not ready
/// and uses the default source limits until it can read them.
pub async fn build(config: Config) -> anyhow::Result<Server> {
    let pg = store::pg::GuardedPool::connect(
        &config.pg,
        config.slow_query,
        "bulbul",
        config.pg_query_timeout,
        Breaker::new("beat_breaker_open", "postgres", config.pg_breaker),
    );
    let log_pg = store::pg::GuardedPool::connect(
        &config.log_pg,
        config.slow_query,
        "bulbul",
        config.pg_query_timeout,
        Breaker::new("beat_breaker_open", "postgres_request_log", config.pg_breaker),
    );
    if let Some(probe) = config.pg_probe {
        pg.watch(&config.pg, probe);
    }
    // closed once everything that writes through them has drained
    let pools = [pg.clone(), log_pg.clone()];
    let ch = store::ch::client_for_service(&config.ch).await;
    let redis = redis::Client::open(config.redis_url.expose_secret())?
        .get_connection_manager_with_config(
            redis::aio::ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_secs(2)))
                .set_response_timeout(Some(Duration::from_secs(2))),
        )
        .await?;
    let limiter = Limiter::new(redis.clone(), &config.redis_key_prefix)?.with_breaker(config.redis_breaker);
    let limits = SourceLimits::defaults();
    let stop_sync = tokio_util::sync::CancellationToken::new();
    let sync = limits.clone().keep_in_sync(pg.clone(), stop_sync.clone()).await;
    let mut sources = HashMap::new();
    for (platform, list) in &config.sources {
        let list = list
            .iter()
            .map(|s| Source {
                name: s.name.clone(),
                base_url: s.base_url.clone(),
                adapter: providers::adapter(&s.name).expect("configuration only names sources with an adapter"),
                limits: limits.clone(),
            })
            .collect();
        sources.insert(*platform, list);
    }
    // a provider request carries its credential (in the query or a header): a redirect is not
    // followed, so neither goes to another host, and no `Referer` repeats the URL
    let http = reqwest::Client::builder()
        .timeout(config.provider_timeout)
        .user_agent("bulbul-beat/0.1")
        .redirect(reqwest::redirect::Policy::none())
        .referer(false)
        .build()?;
    let (log, log_writer) = RequestLog::start(log_pg);
    let breaker = Breaker::new("beat_breaker_open", "clickhouse", config.ch_breaker);
    if let Some(probe) = config.ch_probe {
        breaker::watch(&breaker, probe, store::ch::ChProbe(ch.clone()));
    }
    let (snapshots, snapshot_writer) = Snapshots::start(ch.clone(), config.ch_write_timeout, breaker);
    let refresher = Refresher::new(
        http,
        sources,
        Credentials::new(pg.clone(), config.backoff),
        limiter.clone(),
        log,
        pg.clone(),
        snapshots,
    );
    let flows = match &config.workers {
        Some(w) => queue::worker::flows(w.concurrency, &w.flows),
        None => queue::worker::flows(1, &[]),
    };
    let stop_workers = tokio_util::sync::CancellationToken::new();
    let workers = config.workers.as_ref().map(|w| {
        let worker = queue::worker::WorkerConfig {
            id: format!("{}-{}-{:08x}", config.instance, std::process::id(), rand::random::<u32>()),
            lease: w.lease,
            poll: w.poll,
            drain: w.drain,
            retry_base: w.retry_base,
            retry_cap: w.retry_cap,
            retention: w.retention,
            schedule_every: w.schedule_every,
        };
        tokio::spawn(queue::worker::run(pg.clone(), refresher.clone(), flows.clone(), worker, stop_workers.clone()))
    });
    let state = AppState::new(Services {
        flows: Arc::new(flows),
        pg: pg.clone(),
        refresher,
        limiter,
        refresh_limits: Arc::new(config.refresh_limits.clone()),
        refresh_max_age: config.refresh_max_age,
    });
    // the API's requests end at SERVER_TIMEOUT, whatever a store or a source does meanwhile
    let api = platform::http::body_limit(api::router(state), config.server.max_body_bytes);
    let api = platform::http::with_deadline(api, config.server.request_timeout);
    let router = with_common_layers(ops(&pg, &ch, &redis).merge(api));
    let server = Server::bind(&config.server.addr(), router).await?;
    Ok(server.on_stopped(async move {
        // no more requests: the workers stop claiming, finish or release their tasks
        stop_workers.cancel();
        if let Some(w) = workers {
            let _ = w.await;
        }
        // the router and the workers (and with them every sender) are gone: the writers drain
        stop_sync.cancel();
        let drained = async {
            let _ = sync.await;
            let _ = log_writer.await;
            let _ = snapshot_writer.await;
        };
        if tokio::time::timeout(Duration::from_secs(10), drained).await.is_err() {
            tracing::warn!("request log or snapshots not drained within 10 s");
        }
        futures::future::join_all(pools.iter().map(store::pg::GuardedPool::close)).await;
    }))
}
