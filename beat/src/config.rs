//! beat's configuration, from the original environment variable names.

use platform::config::{ChConfig, ConfigError, Env, PgConfig, ServerConfig};

pub const DEFAULT_PORT: u16 = 8000;

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub pg: PgConfig,
    pub ch: ChConfig,
    /// `REDIS_URL`: the single Redis node holding rate-limit counters.
    pub redis_url: String,
}

impl Config {
    pub fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let redis_url: String = env.required("REDIS_URL");
        if !redis_url.is_empty() && !redis_url.starts_with("redis://") && !redis_url.starts_with("rediss://") {
            env.invalid("REDIS_URL", "must start with redis:// or rediss://");
        }
        let cfg = Self {
            server: ServerConfig::from_env(&mut env, DEFAULT_PORT),
            pg: PgConfig::from_env(&mut env),
            ch: ChConfig::from_env(&mut env),
            redis_url,
        };
        env.finish()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_url_is_validated() {
        let err = Config::from_env(Env::from_pairs([("REDIS_URL", "http://x")])).unwrap_err().to_string();
        assert!(err.contains("REDIS_URL: must start with redis://"), "{err}");
    }
}
