//! coffee's configuration: the environment variable names existing deployments already set
//! (`PG_HOST`, `REDIS_CLUSTER_ADDRESSES`, `HMAC_SECRET`, ...), typed and checked at start-up.

use std::time::Duration;

use platform::config::{
    ChConfig, ConfigError, Env, ExposeSecret, PgConfig, RedisClusterConfig, SecretString, ServerConfig,
};

pub const DEFAULT_PORT: u16 = 7179;

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub pg: PgConfig,
    pub ch: ChConfig,
    pub redis: RedisClusterConfig,
    /// `SLOW_QUERY_MS`: statements slower than this are logged at warn.
    pub slow_query: Duration,
    /// `HMAC_SECRET`: base64 of the HS256 key that signs session tokens (shared with the gateway).
    pub hmac_secret: SecretString,
    /// `JWT_TTL`: session lifetime in seconds.
    pub jwt_ttl: Duration,
    /// `FREE_PROFILE_VIEW_QUOTA`: distinct profiles a FREE partner may open per month.
    pub free_profile_view_quota: u32,
    /// `REDIS_KEY_PREFIX`: prepended to every Redis key and channel (empty in production;
    /// tests use one per test).
    pub redis_key_prefix: String,
    /// `JWT_ISSUER`: the `iss` claim of session tokens (the gateway checks it).
    pub jwt_issuer: String,
    /// `TENANT_SIGNING_SECRET`: base64 of the key the gateway signs injected tenant headers
    /// with. When set, tenant headers without a valid signature are refused; unset, they are
    /// trusted (a coffee reachable only by the gateway).
    pub tenant_signing_key: Option<tenancy::SigningKey>,
    /// `CH_QUERY_TIMEOUT_MS`: the longest coffee waits for one ClickHouse statement (default
    /// 10 000; below `SERVER_TIMEOUT`, so a hung ClickHouse is a 503 for analytics, not a 504).
    pub ch_query_timeout: Duration,
    /// `CH_BREAKER_FAILURES` consecutive unreachable-or-timed-out statements open the analytics
    /// breaker for `CH_BREAKER_COOLDOWN` seconds: analytics then answer 503 at once.
    pub ch_breaker: breaker::Settings,
    /// `PG_QUERY_TIMEOUT_MS`: the longest coffee waits for a Postgres connection or one
    /// statement (default 10 000; below `SERVER_TIMEOUT`, so a silent database is a 503 naming
    /// it, not a 504). A commit is held only to the request's `SERVER_TIMEOUT` (past it, a 504
    /// whose outcome is unknown), not to this shorter deadline.
    pub pg_query_timeout: Duration,
    /// `PG_BREAKER_FAILURES` consecutive unreachable-or-silent calls open the database breaker
    /// for `PG_BREAKER_COOLDOWN` seconds: requests needing Postgres then answer 503 at once.
    pub pg_breaker: breaker::Settings,
    /// `PG_PROBE_INTERVAL_MS` (500; 0 turns it off) and `PG_PROBE_TIMEOUT_MS` (1000): a
    /// background `SELECT 1` that holds the database breaker open while it goes unanswered, so
    /// a frozen Postgres is refused within about 1.5 s and served again within 0.5 s of its
    /// return, instead of costing each request the query deadline until the breaker opens.
    pub pg_probe: Option<breaker::ProbeSettings>,
    /// `CH_PROBE_INTERVAL_MS` and `CH_PROBE_TIMEOUT_MS`: the same for ClickHouse.
    pub ch_probe: Option<breaker::ProbeSettings>,
    /// Test-only pause points; nothing is armed in a configured service.
    pub hooks: platform::hooks::Hooks,
}

impl Config {
    /// The decoded HS256 key (validated by `from_env`).
    pub fn hmac_key(&self) -> Vec<u8> {
        platform::config::decode_hmac_key(self.hmac_secret.expose_secret()).unwrap_or_default()
    }

    pub fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let server = ServerConfig::from_env(&mut env, DEFAULT_PORT);
        let request_timeout = server.request_timeout;
        let cfg = Self {
            pg: PgConfig::from_env(&mut env),
            server,
            ch: ChConfig::from_env(&mut env),
            redis: RedisClusterConfig::from_env(&mut env),
            slow_query: Duration::from_millis(env.or("SLOW_QUERY_MS", 500)),
            hmac_secret: env.secret("HMAC_SECRET"),
            jwt_ttl: env.seconds("JWT_TTL", 86_400),
            free_profile_view_quota: env.or("FREE_PROFILE_VIEW_QUOTA", 50),
            redis_key_prefix: env.or("REDIS_KEY_PREFIX", String::new()),
            jwt_issuer: env.or("JWT_ISSUER", tenancy::DEFAULT_ISSUER.to_owned()),
            tenant_signing_key: env
                .optional_hmac_key("TENANT_SIGNING_SECRET")
                .map(|k| tenancy::SigningKey::new(k.expose_secret().to_vec())),
            ch_query_timeout: env.store_deadline("CH_QUERY_TIMEOUT_MS", 10_000, request_timeout),
            ch_breaker: env.breaker("CH"),
            pg_query_timeout: env.store_deadline("PG_QUERY_TIMEOUT_MS", 10_000, request_timeout),
            pg_breaker: env.breaker("PG"),
            pg_probe: env.probe("PG"),
            ch_probe: env.probe("CH"),
            hooks: platform::hooks::Hooks::default(),
        };
        let secret = cfg.hmac_secret.expose_secret();
        if let (false, Err(problem)) = (secret.is_empty(), platform::config::decode_hmac_key(secret)) {
            env.invalid("HMAC_SECRET", problem);
        }
        if cfg.jwt_ttl.is_zero() {
            env.invalid("JWT_TTL", "must be at least 1 second");
        }
        env.finish()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_missing_variable_is_named() {
        let err = Config::from_env(Env::from_pairs([("PG_PORT", "x")])).unwrap_err().to_string();
        for var in
            ["PG_HOST", "PG_USER", "PG_DB", "PG_PORT", "CH_HOST", "CH_DB", "REDIS_CLUSTER_ADDRESSES", "HMAC_SECRET"]
        {
            assert!(err.contains(var), "{var} missing from: {err}");
        }
        let err = Config::from_env(Env::from_pairs([("HMAC_SECRET", "c2hvcnQ=")])).unwrap_err().to_string();
        assert!(err.contains("HMAC_SECRET: must decode to at least 32 bytes"), "{err}");
        assert!(!err.contains("c2hvcnQ="), "the secret must not be echoed: {err}");
    }
}
