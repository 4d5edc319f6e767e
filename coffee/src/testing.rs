//! Test support, behind the `testing` feature: the one place coffee's tests and benchmarks (and
//! the gateway's, which run a real coffee) build a configuration on the test stack.

use std::time::Duration;

use crate::Config;

pub use testkit::{HMAC_SECRET, TENANT_SIGNING_SECRET};

/// The decoded [`TENANT_SIGNING_SECRET`], for tests that sign their own tenant headers.
pub fn tenant_signing_key() -> tenancy::SigningKey {
    tenancy::SigningKey::new(platform::config::decode_hmac_key(TENANT_SIGNING_SECRET).expect("a valid test key"))
}

/// coffee on the test's own stores: a free port, its own Redis key prefix, tenant headers
/// trusted unsigned (tests that need signing set `tenant_signing_key`).
pub fn config(pg: &testkit::TestPg, ch: &testkit::TestCh, redis_key_prefix: &str) -> Config {
    Config {
        server: testkit::server_config(),
        pg: pg.config.clone(),
        ch: ch.config.clone(),
        redis: testkit::redis_cluster_config(),
        slow_query: Duration::from_millis(500),
        hmac_secret: HMAC_SECRET.to_owned().into(),
        jwt_ttl: Duration::from_secs(3600),
        free_profile_view_quota: 3,
        redis_key_prefix: redis_key_prefix.to_owned(),
        jwt_issuer: tenancy::DEFAULT_ISSUER.to_owned(),
        tenant_signing_key: None,
        ch_query_timeout: Duration::from_secs(10),
        ch_breaker: breaker::Settings::default(),
        pg_query_timeout: Duration::from_secs(10),
        pg_breaker: breaker::Settings::default(),
        // off unless a test turns it on: most fault tests count on the breaker's own path
        pg_probe: None,
        ch_probe: None,
        hooks: platform::hooks::Hooks::for_tests(),
    }
}
