//! Typed configuration from environment variables.
//!
//! Services keep the variable names existing deployments already set (`PG_HOST`,
//! `REDIS_CLUSTER_ADDRESSES`, `SERVER_TIMEOUT`, ...). [`Env`] reads them, parses them into typed values and collects *every*
//! problem before failing, so an operator sees all misconfigured variables at once, each named.
//! Secrets are wrapped in [`SecretString`] and never appear in `Debug` output or logs.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

pub use secrecy::{ExposeSecret, SecretString};

/// Decodes an `HMAC_SECRET`-style value: base64 of at least 32 bytes (HS256 wants a key as long
/// as its hash). The error says what is wrong without echoing the value.
pub fn decode_hmac_key(raw: &str) -> Result<Vec<u8>, &'static str> {
    use base64::Engine as _;
    match base64::engine::general_purpose::STANDARD.decode(raw) {
        Ok(key) if key.len() >= 32 => Ok(key),
        Ok(_) => Err("must decode to at least 32 bytes"),
        Err(_) => Err("must be base64"),
    }
}

/// One problem with one variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarError {
    pub variable: String,
    pub problem: String,
}

/// All problems found while reading a configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    pub errors: Vec<VarError>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: ")?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                write!(f, "; ")?;
            }
            write!(f, "{}: {}", e.variable, e.problem)?;
        }
        Ok(())
    }
}

/// A source of variables plus the problems found so far.
///
/// Build it from the process environment with [`Env::from_process`] or from a map in tests with
/// [`Env::from_map`]; read variables; then call [`Env::finish`] to turn collected problems into a
/// [`ConfigError`].
#[derive(Default)]
pub struct Env {
    vars: HashMap<String, String>,
    errors: Vec<VarError>,
}

/// The variables' names only: their values include every secret of the process.
impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut names: Vec<&str> = self.vars.keys().map(String::as_str).collect();
        names.sort_unstable();
        f.debug_struct("Env").field("variables", &names).field("errors", &self.errors).finish()
    }
}

impl Env {
    pub fn from_process() -> Self {
        Self::from_map(std::env::vars().collect())
    }

    pub fn from_map(vars: HashMap<String, String>) -> Self {
        Self { vars, errors: Vec::new() }
    }

    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        Self::from_map(pairs.into_iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect())
    }

    fn raw(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str).filter(|v| !v.trim().is_empty())
    }

    fn fail(&mut self, name: &str, problem: impl Into<String>) {
        self.errors.push(VarError { variable: name.to_owned(), problem: problem.into() });
    }

    fn parse<T: FromStr>(&mut self, name: &str, raw: &str) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        match raw.trim().parse::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.fail(name, format!("cannot parse {raw:?}: {e}"));
                None
            }
        }
    }

    /// A variable that must be set. Missing or unparsable values are recorded; the returned
    /// default is only a placeholder until [`Env::finish`] reports the error.
    pub fn required<T: FromStr + Default>(&mut self, name: &str) -> T
    where
        T::Err: fmt::Display,
    {
        match self.raw(name).map(str::to_owned) {
            Some(raw) => self.parse(name, &raw).unwrap_or_default(),
            None => {
                self.fail(name, "is required but not set");
                T::default()
            }
        }
    }

    /// A variable with a default used when it is unset or empty.
    pub fn or<T: FromStr>(&mut self, name: &str, default: T) -> T
    where
        T::Err: fmt::Display,
    {
        match self.raw(name).map(str::to_owned) {
            Some(raw) => self.parse(name, &raw).unwrap_or(default),
            None => default,
        }
    }

    /// An optional variable.
    pub fn optional<T: FromStr>(&mut self, name: &str) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        let raw = self.raw(name)?.to_owned();
        self.parse(name, &raw)
    }

    /// A required secret; its value is never echoed in errors.
    pub fn secret(&mut self, name: &str) -> SecretString {
        match self.raw(name) {
            Some(v) => SecretString::from(v.to_owned()),
            None => {
                self.fail(name, "is required but not set");
                SecretString::from(String::new())
            }
        }
    }

    /// An optional secret; empty when unset.
    pub fn secret_or_empty(&mut self, name: &str) -> SecretString {
        SecretString::from(self.raw(name).unwrap_or_default().to_owned())
    }

    /// `HMAC_SECRET`-style key: required, base64 of at least 32 bytes (HS256 wants a key as long
    /// as its hash). Returns the decoded key; problems are recorded without echoing the value.
    pub fn hmac_key(&mut self, name: &str) -> secrecy::SecretSlice<u8> {
        let secret = self.secret(name);
        let raw = secret.expose_secret();
        if raw.is_empty() {
            return Vec::new().into();
        }
        match decode_hmac_key(raw) {
            Ok(key) => key.into(),
            Err(problem) => {
                self.fail(name, problem);
                Vec::new().into()
            }
        }
    }

    /// Like [`Self::hmac_key`], but optional: `None` when unset.
    pub fn optional_hmac_key(&mut self, name: &str) -> Option<secrecy::SecretSlice<u8>> {
        let raw = self.raw(name)?.to_owned();
        match decode_hmac_key(&raw) {
            Ok(key) => Some(key.into()),
            Err(problem) => {
                self.fail(name, problem);
                None
            }
        }
    }

    /// A duration given in whole seconds (the deployed variables' convention, e.g. `SERVER_TIMEOUT=30`).
    pub fn seconds(&mut self, name: &str, default_secs: u64) -> Duration {
        Duration::from_secs(self.or(name, default_secs))
    }

    /// A duration given in milliseconds, for sub-second settings (e.g. `REDIS_TIMEOUT_MS=250`).
    pub fn millis(&mut self, name: &str, default_ms: u64) -> Duration {
        Duration::from_millis(self.or(name, default_ms))
    }

    /// A circuit breaker's settings: `{prefix}_BREAKER_FAILURES` consecutive failures (default
    /// 5, at least 1) open it for `{prefix}_BREAKER_COOLDOWN` seconds (default 5).
    pub fn breaker(&mut self, prefix: &str) -> breaker::Settings {
        let (failures, cooldown) = (format!("{prefix}_BREAKER_FAILURES"), format!("{prefix}_BREAKER_COOLDOWN"));
        let defaults = breaker::Settings::default();
        let settings = breaker::Settings {
            failures: self.or(&failures, defaults.failures),
            cooldown: self.seconds(&cooldown, defaults.cooldown.as_secs()),
        };
        if settings.failures == 0 {
            self.invalid(&failures, "must be at least 1");
        }
        settings
    }

    /// How a store's breaker is probed (`<prefix>_PROBE_INTERVAL_MS`, `<prefix>_PROBE_TIMEOUT_MS`;
    /// see [`breaker::watch`]); `None` when the interval is 0 (no probe).
    pub fn probe(&mut self, prefix: &str) -> Option<breaker::ProbeSettings> {
        let (every, deadline) = (format!("{prefix}_PROBE_INTERVAL_MS"), format!("{prefix}_PROBE_TIMEOUT_MS"));
        let defaults = breaker::ProbeSettings::default();
        let settings = breaker::ProbeSettings {
            every: self.millis(&every, defaults.every.as_millis() as u64),
            deadline: self.millis(&deadline, defaults.deadline.as_millis() as u64),
        };
        if settings.deadline.is_zero() {
            self.invalid(&deadline, "must be positive");
        }
        (!settings.every.is_zero()).then_some(settings)
    }

    /// A per-call deadline in milliseconds (`name`, e.g. `PG_QUERY_TIMEOUT_MS`) that must be
    /// positive and shorter than `request_timeout` (`SERVER_TIMEOUT`), so a silent store is
    /// answered as unavailable before the request itself times out.
    pub fn store_deadline(&mut self, name: &str, default_ms: u64, request_timeout: Duration) -> Duration {
        let deadline = self.millis(name, default_ms);
        if deadline.is_zero() || deadline >= request_timeout {
            self.invalid(name, "must be positive and shorter than SERVER_TIMEOUT");
        }
        deadline
    }

    /// A comma-separated list, e.g. `REDIS_CLUSTER_ADDRESSES=host1:6379,host2:6380`.
    pub fn list(&mut self, name: &str) -> Vec<String> {
        self.raw(name)
            .map(|v| v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// Records a problem found by cross-field validation.
    pub fn invalid(&mut self, name: &str, problem: impl Into<String>) {
        self.fail(name, problem);
    }

    pub fn finish(self) -> Result<(), ConfigError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ConfigError { errors: self.errors })
        }
    }
}

/// Where the HTTP server listens and how long a request may take.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub host: String,
    pub port: u16,
    /// `SERVER_TIMEOUT` in seconds: the per-request deadline.
    pub request_timeout: Duration,
    /// `MAX_BODY_BYTES` (default 10 MiB): the largest request body read (413 past it). The
    /// gateway forwards no larger body, and the services behind it read as much as it forwards.
    pub max_body_bytes: u64,
}

/// [`ServerConfig::max_body_bytes`] when `MAX_BODY_BYTES` is unset.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;

impl ServerConfig {
    /// Reads `SERVER_HOST`, `PORT` (service default when unset) and `SERVER_TIMEOUT`.
    pub fn from_env(env: &mut Env, default_port: u16) -> Self {
        let request_timeout = env.seconds("SERVER_TIMEOUT", 30);
        if request_timeout.is_zero() {
            env.invalid("SERVER_TIMEOUT", "must be at least 1 second");
        }
        let max_body_bytes = env.or("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES);
        if max_body_bytes == 0 {
            env.invalid("MAX_BODY_BYTES", "must be at least 1");
        }
        Self {
            host: env.or("SERVER_HOST", "0.0.0.0".to_owned()),
            port: env.or("PORT", default_port),
            request_timeout,
            max_body_bytes,
        }
    }

    pub fn addr(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// PostgreSQL connection settings (`PG_*`).
#[derive(Debug, Clone)]
pub struct PgConfig {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: SecretString,
    pub database: String,
    pub max_open_conns: u32,
    pub max_idle_conns: u32,
}

impl PgConfig {
    pub fn from_env(env: &mut Env) -> Self {
        let cfg = Self {
            host: env.required("PG_HOST"),
            port: env.or("PG_PORT", 5432),
            user: env.required("PG_USER"),
            password: env.secret_or_empty("PG_PASS"),
            database: env.required("PG_DB"),
            max_open_conns: env.or("PG_MAX_OPEN_CONN", 20),
            max_idle_conns: env.or("PG_MAX_IDLE_CONN", 5),
        };
        if cfg.max_open_conns == 0 {
            env.invalid("PG_MAX_OPEN_CONN", "must be at least 1");
        }
        if cfg.max_idle_conns > cfg.max_open_conns {
            env.invalid("PG_MAX_IDLE_CONN", "must not exceed PG_MAX_OPEN_CONN");
        }
        cfg
    }
}

/// ClickHouse connection settings (`CH_*`).
#[derive(Debug, Clone)]
pub struct ChConfig {
    pub host: String,
    /// The HTTP interface port (the Rust client speaks HTTP).
    pub port: u16,
    pub user: String,
    pub password: SecretString,
    pub database: String,
    pub max_open_conns: u32,
    /// `CH_MAX_EXECUTION_TIME` seconds; the server cancels longer queries.
    pub max_execution_time: Duration,
    /// `CH_VALIDATION`: `auto` (detect the server version), `on` or `off`.
    pub validation: ChValidation,
    /// `CH_CLUSTER`: the `remote_servers` cluster whose shards hold the database in the sharded
    /// layout (`clickhouse-ddl/sharded/`); unset, one server holds it all. The services talk to
    /// any one shard (`CH_HOST`); its `Distributed` tables reach the others.
    pub cluster: Option<String>,
    /// `CH_REPLICATED` (with `CH_CLUSTER`): the cluster's shards have replicas, and the local
    /// tables are `Replicated…MergeTree` (ZooKeeper configured on the servers). Only the schema
    /// job reads it; the services use the `Distributed` tables the same way.
    pub replicated: bool,
}

/// Whether the ClickHouse client validates row types against the server schema.
/// Validation needs `RowBinaryWithNamesAndTypes`, which ClickHouse 18.16 lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ChValidation {
    #[default]
    Auto,
    On,
    Off,
}

impl FromStr for ChValidation {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "on" | "true" | "1" => Ok(Self::On),
            "off" | "false" | "0" => Ok(Self::Off),
            other => Err(format!("expected auto, on or off, got {other:?}")),
        }
    }
}

impl ChConfig {
    pub fn from_env(env: &mut Env) -> Self {
        let cfg = Self {
            host: env.required("CH_HOST"),
            port: env.or("CH_PORT", 8123),
            user: env.or("CH_USER", "default".to_owned()),
            password: env.secret_or_empty("CH_PASS"),
            database: env.required("CH_DB"),
            max_open_conns: env.or("CH_MAX_OPEN_CONN", 20),
            max_execution_time: env.seconds("CH_MAX_EXECUTION_TIME", 60),
            validation: env.or("CH_VALIDATION", ChValidation::Auto),
            cluster: env.optional("CH_CLUSTER"),
            replicated: env.or("CH_REPLICATED", false),
        };
        let identifier = |n: &str| {
            n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if cfg.cluster.as_deref().is_some_and(|c| !identifier(c)) {
            env.invalid("CH_CLUSTER", "must be a cluster name of remote_servers: letters, digits and _");
        }
        if cfg.cluster.is_some() && !identifier(&cfg.database) {
            env.invalid(
                "CH_DB",
                "must be letters, digits and _ in the sharded layout (the Distributed tables name it)",
            );
        }
        cfg
    }

    pub fn url(&self) -> String {
        format!("http://{}:{}", self.host, self.port)
    }
}

/// Redis Cluster settings (`REDIS_CLUSTER_ADDRESSES`, `REDIS_CLUSTER_PASSWORD`,
/// `REDIS_TIMEOUT_MS`).
#[derive(Debug, Clone)]
pub struct RedisClusterConfig {
    pub addresses: Vec<String>,
    pub password: SecretString,
    /// `REDIS_TIMEOUT_MS` (default 250): bounds connecting and each command, so a Redis
    /// brown-out costs a request that long and then falls through instead of stalling it.
    pub timeout: Duration,
    /// `REDIS_BREAKER_FAILURES` calls in a row that Redis did not answer open the breaker for
    /// `REDIS_BREAKER_COOLDOWN` seconds: callers then fall through at once.
    pub breaker: breaker::Settings,
}

impl RedisClusterConfig {
    pub fn from_env(env: &mut Env) -> Self {
        let addresses = env.list("REDIS_CLUSTER_ADDRESSES");
        if addresses.is_empty() {
            env.invalid("REDIS_CLUSTER_ADDRESSES", "is required: a comma-separated list of host:port");
        }
        for a in &addresses {
            if a.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()).is_none() {
                env.invalid("REDIS_CLUSTER_ADDRESSES", format!("{a:?} is not host:port"));
            }
        }
        let timeout = env.millis("REDIS_TIMEOUT_MS", 250);
        if timeout.is_zero() {
            env.invalid("REDIS_TIMEOUT_MS", "must be at least 1 millisecond");
        }
        Self {
            addresses,
            password: env.secret_or_empty("REDIS_CLUSTER_PASSWORD"),
            timeout,
            breaker: env.breaker("REDIS"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_names_variables_without_their_values() {
        let env = Env::from_pairs([("HMAC_SECRET", "c2VjcmV0LXNlY3JldC1zZWNyZXQ=")]);
        let shown = format!("{env:?}");
        assert!(shown.contains("HMAC_SECRET") && !shown.contains("c2VjcmV0"), "{shown}");
    }

    #[test]
    fn collects_every_problem_and_names_each_variable() {
        let mut env = Env::from_pairs([("PG_PORT", "not-a-port"), ("PG_MAX_OPEN_CONN", "0")]);
        let _ = PgConfig::from_env(&mut env);
        let err = env.finish().unwrap_err();
        let names: Vec<_> = err.errors.iter().map(|e| e.variable.as_str()).collect();
        assert!(names.contains(&"PG_HOST"), "{err}");
        assert!(names.contains(&"PG_USER"), "{err}");
        assert!(names.contains(&"PG_DB"), "{err}");
        assert!(names.contains(&"PG_PORT"), "{err}");
        assert!(names.contains(&"PG_MAX_OPEN_CONN"), "{err}");
        assert!(err.to_string().contains("PG_PORT: cannot parse \"not-a-port\""), "{err}");
    }

    #[test]
    fn secrets_are_not_printed() {
        let mut env =
            Env::from_pairs([("PG_HOST", "db"), ("PG_USER", "u"), ("PG_DB", "d"), ("PG_PASS", "hunter2-very-secret")]);
        let cfg = PgConfig::from_env(&mut env);
        env.finish().unwrap();
        assert!(!format!("{cfg:?}").contains("hunter2"));
        assert_eq!(cfg.password.expose_secret(), "hunter2-very-secret");
        assert_eq!(cfg.port, 5432);
    }

    #[test]
    fn redis_addresses_are_validated() {
        let mut env = Env::from_pairs([("REDIS_CLUSTER_ADDRESSES", "a:1, b:2 ,c")]);
        let cfg = RedisClusterConfig::from_env(&mut env);
        assert_eq!(cfg.addresses, vec!["a:1", "b:2", "c"]);
        let err = env.finish().unwrap_err();
        assert_eq!(err.errors.len(), 1);
        assert!(err.errors[0].problem.contains("\"c\" is not host:port"));
    }

    #[test]
    fn server_timeout_is_seconds_and_must_be_positive() {
        let mut env = Env::from_pairs([("SERVER_TIMEOUT", "0")]);
        let _ = ServerConfig::from_env(&mut env, 1);
        assert_eq!(env.finish().unwrap_err().errors[0].variable, "SERVER_TIMEOUT");

        let mut env = Env::from_pairs([("SERVER_TIMEOUT", "7")]);
        let cfg = ServerConfig::from_env(&mut env, 7179);
        env.finish().unwrap();
        assert_eq!(cfg.request_timeout, Duration::from_secs(7));
        assert_eq!(cfg.port, 7179);
    }

    #[test]
    fn ch_validation_parses() {
        assert_eq!("AUTO".parse::<ChValidation>(), Ok(ChValidation::Auto));
        assert_eq!("off".parse::<ChValidation>(), Ok(ChValidation::Off));
        assert!("maybe".parse::<ChValidation>().is_err());
    }
}
