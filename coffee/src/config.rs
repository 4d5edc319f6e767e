//! coffee's configuration, from the original environment variable names.

use std::time::Duration;

use platform::config::{ChConfig, ConfigError, Env, PgConfig, RedisClusterConfig, ServerConfig};

pub const DEFAULT_PORT: u16 = 7179;

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub pg: PgConfig,
    pub ch: ChConfig,
    pub redis: RedisClusterConfig,
    /// `SLOW_QUERY_MS`: statements slower than this are logged at warn.
    pub slow_query: Duration,
}

impl Config {
    pub fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let cfg = Self {
            server: ServerConfig::from_env(&mut env, DEFAULT_PORT),
            pg: PgConfig::from_env(&mut env),
            ch: ChConfig::from_env(&mut env),
            redis: RedisClusterConfig::from_env(&mut env),
            slow_query: Duration::from_millis(env.or("SLOW_QUERY_MS", 500)),
        };
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
        for var in ["PG_HOST", "PG_USER", "PG_DB", "PG_PORT", "CH_HOST", "CH_DB", "REDIS_CLUSTER_ADDRESSES"] {
            assert!(err.contains(var), "{var} missing from: {err}");
        }
    }
}
