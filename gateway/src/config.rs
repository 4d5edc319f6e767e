//! gateway's configuration, from the original environment variable names.

use std::time::Duration;

use platform::config::{ConfigError, Env, RedisClusterConfig, ServerConfig};

pub const DEFAULT_PORT: u16 = 8009;

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub redis: RedisClusterConfig,
    /// `HMAC_SECRET`: base64 of the HS256 key that signs session tokens (shared with coffee's
    /// identity module).
    pub hmac_key: secrecy::SecretSlice<u8>,
    /// `COFFEE_URL`: where the coffee, identity and partner modules are served.
    pub coffee_url: String,
    /// `BEAT_URL`: where beat is served; `/beat/{*rest}` goes there as `/{rest}`.
    pub beat_url: String,
    /// `SESSION_CACHE_TTL`: how long a session stays in the in-process cache, in seconds
    /// (logouts evict it at once through the invalidation channel).
    pub session_cache_ttl: Duration,
    /// `SESSION_CACHE_CAPACITY`: sessions kept in process.
    pub session_cache_capacity: u64,
    /// `PLAN_CACHE_TTL`: how long a partner's plan is cached, in seconds.
    pub plan_cache_ttl: Duration,
    /// `REDIS_KEY_PREFIX`: prepended to every Redis key and channel (tests isolate with it).
    pub redis_key_prefix: String,
}

impl Config {
    pub fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let cfg = Self {
            server: ServerConfig::from_env(&mut env, DEFAULT_PORT),
            redis: RedisClusterConfig::from_env(&mut env),
            hmac_key: env.hmac_key("HMAC_SECRET"),
            coffee_url: env.or("COFFEE_URL", "http://127.0.0.1:7179".to_owned()),
            beat_url: env.or("BEAT_URL", "http://127.0.0.1:8000".to_owned()),
            session_cache_ttl: env.seconds("SESSION_CACHE_TTL", 60),
            session_cache_capacity: env.or("SESSION_CACHE_CAPACITY", 100_000),
            plan_cache_ttl: env.seconds("PLAN_CACHE_TTL", 300),
            redis_key_prefix: env.or("REDIS_KEY_PREFIX", String::new()),
        };
        for (name, url) in [("COFFEE_URL", &cfg.coffee_url), ("BEAT_URL", &cfg.beat_url)] {
            match url.parse::<axum::http::Uri>() {
                Ok(uri) if uri.scheme_str() == Some("http") && uri.authority().is_some() => {}
                _ => env.invalid(name, "must be an http:// URL with a host"),
            }
        }
        env.finish()?;
        Ok(Self {
            coffee_url: cfg.coffee_url.trim_end_matches('/').to_owned(),
            beat_url: cfg.beat_url.trim_end_matches('/').to_owned(),
            ..cfg
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_variables_are_named_and_secrets_not_echoed() {
        let err = Config::from_env(Env::from_pairs([])).unwrap_err().to_string();
        assert!(err.contains("REDIS_CLUSTER_ADDRESSES") && err.contains("HMAC_SECRET"), "{err}");
        let err = Config::from_env(Env::from_pairs([("HMAC_SECRET", "c2hvcnQ="), ("COFFEE_URL", "ftp://x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("HMAC_SECRET: must decode to at least 32 bytes"), "{err}");
        assert!(err.contains("COFFEE_URL"), "{err}");
        assert!(!err.contains("c2hvcnQ="), "{err}");
    }
}
