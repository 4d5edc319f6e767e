//! Test support, behind the `testing` feature: the one place beat's tests and benchmarks build
//! a configuration on the test stack, with every source at a provider simulator.

use std::time::Duration;

use domain::Platform;
use ratelimit::StackPolicy;

use crate::config::{SourceConfig, Workers, DEFAULT_REFRESH_LIMITS};
use crate::credentials::Backoff;
use crate::Config;

/// Every source, in the default order, at `simulator/{source}`.
pub fn sources_at(simulator: &str) -> Vec<(Platform, Vec<SourceConfig>)> {
    let source = |name: &str| SourceConfig { name: name.to_owned(), base_url: format!("{simulator}/{name}") };
    vec![
        (Platform::Instagram, ["insta-best-performance", "arraybobo", "rocketapi", "graphapi"].map(source).to_vec()),
        (Platform::Youtube, ["youtube138", "youtubev31", "youtube-data-api"].map(source).to_vec()),
    ]
}

/// beat on the test's own stores (a free port, its own Redis prefix), sources at `simulator`,
/// no workers.
pub fn config(pg: &testkit::TestPg, ch: &testkit::TestCh, simulator: &str) -> Config {
    Config {
        server: testkit::server_config(),
        pg: pg.config.clone(),
        log_pg: pg.config.clone(),
        ch: ch.config.clone(),
        redis_url: testkit::redis_url().into(),
        redis_breaker: breaker::Settings::default(),
        redis_key_prefix: testkit::redis_prefix(),
        refresh_limits: StackPolicy::parse("refresh_profile", DEFAULT_REFRESH_LIMITS).expect("the defaults are valid"),
        refresh_max_age: Duration::from_secs(86_400),
        provider_timeout: Duration::from_secs(2),
        ch_write_timeout: Duration::from_secs(10),
        ch_breaker: breaker::Settings::default(),
        pg_query_timeout: Duration::from_secs(10),
        pg_breaker: breaker::Settings::default(),
        // off unless a test turns it on: most fault tests count on the breaker's own path
        pg_probe: None,
        ch_probe: None,
        slow_query: Duration::from_millis(500),
        instance: "beat-test".to_owned(),
        backoff: Backoff { base: Duration::from_secs(60), max: Duration::from_secs(3600) },
        sources: sources_at(simulator),
        workers: None,
    }
}

/// Workers polling every `poll`, with short leases and back-offs.
pub fn workers(poll: Duration) -> Workers {
    Workers {
        concurrency: 8,
        lease: Duration::from_secs(6),
        poll,
        drain: Duration::from_secs(5),
        retention: Duration::from_secs(86_400),
        schedule_every: Duration::from_secs(3600),
        retry_base: Duration::from_secs(1),
        retry_cap: Duration::from_secs(10),
        flows: Vec::new(),
    }
}

/// One key per source, in the form the provider simulator accepts.
pub const SIMULATOR_KEYS: [(&str, &str); 7] = [
    ("insta-best-performance", "key-best"),
    ("arraybobo", "key-arraybobo"),
    ("rocketapi", "key-rocket"),
    ("graphapi", "17841400000000001:graph-token"),
    ("youtube138", "key-yt138"),
    ("youtubev31", "key-v31"),
    ("youtube-data-api", "key-google"),
];

/// Stores [`SIMULATOR_KEYS`], so every source can be asked.
pub async fn seed_credentials(pg: &sqlx::PgPool) {
    for (source, key) in SIMULATOR_KEYS {
        add_credential(pg, source, key).await;
    }
}

/// Stores one credential for `source` (and the source itself, with a generous limit).
pub async fn add_credential(pg: &sqlx::PgPool, source: &str, key: &str) -> i64 {
    let platform = if source.starts_with("youtube") { "youtube" } else { "instagram" };
    sqlx::query(
        "INSERT INTO scrape_source (source, platform, requests, per_seconds) VALUES ($1, $2, 1000, 1)
         ON CONFLICT DO NOTHING",
    )
    .bind(source)
    .bind(platform)
    .execute(pg)
    .await
    .expect("storing the source");
    sqlx::query_scalar("INSERT INTO credential (source, key) VALUES ($1, $2) RETURNING id")
        .bind(source)
        .bind(key)
        .fetch_one(pg)
        .await
        .expect("storing the credential")
}
