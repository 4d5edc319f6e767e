//! gateway's configuration, from the original environment variable names.

use platform::config::{ConfigError, Env, RedisClusterConfig, ServerConfig};

pub const DEFAULT_PORT: u16 = 8009;

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub redis: RedisClusterConfig,
}

impl Config {
    pub fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let cfg = Self {
            server: ServerConfig::from_env(&mut env, DEFAULT_PORT),
            redis: RedisClusterConfig::from_env(&mut env),
        };
        env.finish()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_cluster_addresses_are_required() {
        let err = Config::from_env(Env::from_pairs([])).unwrap_err().to_string();
        assert!(err.contains("REDIS_CLUSTER_ADDRESSES"), "{err}");
    }
}
