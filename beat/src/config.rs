//! beat's configuration: the environment variable names existing deployments already set
//! (`PG_HOST`, `REDIS_URL`, ...) plus beat's own (sources, limits, queue workers).

use std::time::Duration;

use domain::Platform;
use platform::config::{ChConfig, ConfigError, Env, ExposeSecret, PgConfig, SecretString, ServerConfig};
use ratelimit::StackPolicy;

use crate::credentials::Backoff;

pub const DEFAULT_PORT: u16 = 8000;

/// The stacked limit a full refresh passes: 20,000 a day (UTC calendar day), 60 a minute, one
/// per second per handle.
pub const DEFAULT_REFRESH_LIMITS: &str = "daily=20000/1day;calendar,minute=60/1m,handle=1/1s";

/// Each source's default base URL (real providers); `SOURCE_URL_<NAME>` replaces it, e.g.
/// `SOURCE_URL_INSTA_BEST_PERFORMANCE` (the dev stack points them all at the simulator).
pub const DEFAULT_URLS: [(&str, &str); 7] = [
    ("insta-best-performance", "https://instagram-api-cheap-best-performance.p.rapidapi.com"),
    ("arraybobo", "https://instagram-scraper-2022.p.rapidapi.com"),
    ("rocketapi", "https://v1.rocketapi.io"),
    ("graphapi", "https://graph.facebook.com/v19.0"),
    ("youtube138", "https://youtube138.p.rapidapi.com"),
    ("youtubev31", "https://youtube-v31.p.rapidapi.com"),
    ("youtube-data-api", "https://www.googleapis.com/youtube/v3"),
];

#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub name: String,
    pub base_url: String,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub pg: PgConfig,
    /// `PG_LOG_MAX_OPEN_CONN` (default 15): the request log's own small pool.
    pub log_pg: PgConfig,
    pub ch: ChConfig,
    /// `REDIS_URL`: the single Redis node holding rate-limit counters.
    pub redis_url: SecretString,
    /// `REDIS_BREAKER_FAILURES` (5) rate-limit checks in a row that Redis did not answer open
    /// the limiter's breaker for `REDIS_BREAKER_COOLDOWN` seconds (5): refreshes then take the
    /// limits' failure mode at once (beat's fail closed: 503 + `Retry-After`).
    pub redis_breaker: breaker::Settings,
    /// `REDIS_KEY_PREFIX` (default `beat_server_`).
    pub redis_key_prefix: String,
    /// `REFRESH_LIMITS`: the stacked limit of a full refresh.
    pub refresh_limits: StackPolicy,
    /// `REFRESH_MAX_AGE` seconds (default a day): older stored profiles are refreshed on read.
    pub refresh_max_age: Duration,
    /// `PROVIDER_TIMEOUT` seconds (default 10): one provider request.
    pub provider_timeout: Duration,
    /// `CH_QUERY_TIMEOUT_MS` (default 10000, below `SERVER_TIMEOUT`): the longest wait for one
    /// group-committed ClickHouse insert of the day's snapshots.
    pub ch_write_timeout: Duration,
    /// `CH_BREAKER_FAILURES` (5) inserts failing in a row (unreachable or silent ClickHouse) open
    /// the snapshot writer's breaker for `CH_BREAKER_COOLDOWN` seconds (5): refreshes are then
    /// told at once that the time series could not be stored, instead of each waiting out the
    /// insert deadline.
    pub ch_breaker: breaker::Settings,
    /// `PG_QUERY_TIMEOUT_MS` (default 10000, below `SERVER_TIMEOUT`): the longest a request
    /// waits for Postgres (a connection, or one statement or transaction of the API's).
    pub pg_query_timeout: Duration,
    /// `PG_BREAKER_FAILURES` (5) unreachable-or-silent Postgres calls in a row open the database
    /// breaker for `PG_BREAKER_COOLDOWN` seconds (5): the API then answers 503 at once.
    pub pg_breaker: breaker::Settings,
    /// `PG_PROBE_INTERVAL_MS` (500; 0 turns it off) and `PG_PROBE_TIMEOUT_MS` (1000): a
    /// background `SELECT 1` that holds the database breaker open while it goes unanswered, so
    /// a frozen Postgres is refused within about 1.5 s and served again within 0.5 s of its
    /// return, instead of costing each request the query deadline until the breaker opens.
    pub pg_probe: Option<breaker::ProbeSettings>,
    /// `CH_PROBE_INTERVAL_MS` and `CH_PROBE_TIMEOUT_MS`: the same for ClickHouse.
    pub ch_probe: Option<breaker::ProbeSettings>,
    /// `SLOW_QUERY_MS` (default 500): statements slower than this are logged at warn.
    pub slow_query: Duration,
    /// `HOSTNAME` (default `beat`): the start of this process's queue-worker id (then its pid and
    /// a random suffix), as task leases record it.
    pub instance: String,
    /// `CREDENTIAL_BACKOFF` / `CREDENTIAL_BACKOFF_MAX` seconds (60 / 3600).
    pub backoff: Backoff,
    /// `INSTAGRAM_SOURCES` / `YOUTUBE_SOURCES`: the sources tried, in order.
    pub sources: Vec<(Platform, Vec<SourceConfig>)>,
    /// The queue's workers in this process, or `None` (`WORKERS=false`).
    pub workers: Option<Workers>,
}

/// `WORKER_CONCURRENCY` (8 per flow), `FLOWS` (per-flow overrides as
/// `name=concurrency[:priority]`, e.g. `posts_refresh=2:-1`), `QUEUE_LEASE` (30 s), `QUEUE_POLL` (10 s), `QUEUE_DRAIN`
/// (20 s), `TASK_RETENTION` (7 days), `SCHEDULE_EVERY` (3600 s), `RETRY_BACKOFF` /
/// `RETRY_BACKOFF_MAX` (10 s / 3600 s).
#[derive(Debug, Clone)]
pub struct Workers {
    pub concurrency: usize,
    pub lease: Duration,
    pub poll: Duration,
    pub drain: Duration,
    pub retention: Duration,
    pub schedule_every: Duration,
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// (flow, concurrency, default priority) from `FLOWS`.
    pub flows: Vec<(String, usize, i16)>,
}

fn flow_overrides(env: &mut Env) -> Vec<(String, usize, i16)> {
    let mut out = Vec::new();
    for item in env.list("FLOWS") {
        let parsed = item.split_once('=').and_then(|(name, rest)| {
            let (c, p) = rest.split_once(':').unwrap_or((rest, "0"));
            Some((name.trim().to_owned(), c.trim().parse::<usize>().ok()?, p.trim().parse::<i16>().ok()?))
        });
        match parsed {
            Some((name, c, p)) if crate::queue::worker::FLOW_NAMES.contains(&name.as_str()) && c > 0 => {
                out.push((name, c, p))
            }
            Some((name, ..)) if !crate::queue::worker::FLOW_NAMES.contains(&name.as_str()) => env.invalid(
                "FLOWS",
                format!("unknown flow {name:?} (flows: {})", crate::queue::worker::FLOW_NAMES.join(", ")),
            ),
            _ => env.invalid("FLOWS", format!("{item:?} is not name=concurrency[:priority] with concurrency ≥ 1")),
        }
    }
    out
}

impl Workers {
    pub fn from_env(env: &mut Env) -> Option<Self> {
        if !env.or("WORKERS", true) {
            return None;
        }
        let w = Self {
            concurrency: env.or("WORKER_CONCURRENCY", 8),
            lease: env.seconds("QUEUE_LEASE", 30),
            poll: env.seconds("QUEUE_POLL", 10),
            drain: env.seconds("QUEUE_DRAIN", 20),
            retention: env.seconds("TASK_RETENTION", 7 * 86_400),
            schedule_every: env.seconds("SCHEDULE_EVERY", 3600),
            retry_base: env.seconds("RETRY_BACKOFF", 10),
            retry_cap: env.seconds("RETRY_BACKOFF_MAX", 3600),
            flows: flow_overrides(env),
        };
        if w.concurrency == 0 {
            env.invalid("WORKER_CONCURRENCY", "must be at least 1");
        }
        if w.lease < Duration::from_secs(3) {
            env.invalid("QUEUE_LEASE", "must be at least 3 seconds (heartbeats come every third of it)");
        }
        if w.poll.is_zero() {
            env.invalid("QUEUE_POLL", "must be at least 1 second");
        }
        Some(w)
    }
}

fn url_var(source: &str) -> String {
    format!("SOURCE_URL_{}", source.to_ascii_uppercase().replace('-', "_"))
}

impl Config {
    pub fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        // a secret: the URL may carry the password
        let redis_url = env.secret("REDIS_URL");
        let url = redis_url.expose_secret();
        if !url.is_empty() && !url.starts_with("redis://") && !url.starts_with("rediss://") {
            env.invalid("REDIS_URL", "must start with redis:// or rediss://");
        }
        let pg = PgConfig::from_env(&mut env);
        let log_pg = PgConfig { max_open_conns: env.or("PG_LOG_MAX_OPEN_CONN", 15), max_idle_conns: 2, ..pg.clone() };
        let limits: String = env.or("REFRESH_LIMITS", DEFAULT_REFRESH_LIMITS.to_owned());
        let refresh_limits = match StackPolicy::parse("refresh_profile", &limits) {
            Ok(p) => p,
            Err(e) => {
                env.invalid("REFRESH_LIMITS", e.to_string());
                StackPolicy::parse("refresh_profile", DEFAULT_REFRESH_LIMITS).expect("the default limits are valid")
            }
        };
        let mut sources = Vec::new();
        for (platform, var, default) in [
            (Platform::Instagram, "INSTAGRAM_SOURCES", "insta-best-performance,arraybobo,rocketapi,graphapi"),
            (Platform::Youtube, "YOUTUBE_SOURCES", "youtube138,youtubev31,youtube-data-api"),
        ] {
            let mut names = env.list(var);
            if names.is_empty() {
                names = default.split(',').map(str::to_owned).collect();
            }
            let mut list = Vec::new();
            for name in names {
                match crate::providers::SOURCES.iter().find(|(n, _)| *n == name) {
                    Some((_, p)) if *p == platform => {
                        let default_url =
                            DEFAULT_URLS.iter().find(|(n, _)| *n == name).map(|(_, u)| *u).unwrap_or_default();
                        let var = url_var(&name);
                        let base_url: String = env.or(&var, default_url.to_owned());
                        if !base_url.starts_with("http://") && !base_url.starts_with("https://") {
                            env.invalid(&var, "must be an http:// or https:// URL");
                        }
                        list.push(SourceConfig { name, base_url });
                    }
                    Some(_) => env.invalid(var, format!("{name} is not a {platform} source")),
                    None => env.invalid(var, format!("unknown source {name:?}")),
                }
            }
            sources.push((platform, list));
        }
        let server = ServerConfig::from_env(&mut env, DEFAULT_PORT);
        let request_timeout = server.request_timeout;
        let cfg = Self {
            server,
            pg,
            log_pg,
            ch: ChConfig::from_env(&mut env),
            redis_url,
            redis_breaker: env.breaker("REDIS"),
            redis_key_prefix: env.or("REDIS_KEY_PREFIX", "beat_server_".to_owned()),
            refresh_limits,
            refresh_max_age: env.seconds("REFRESH_MAX_AGE", 86_400),
            provider_timeout: env.seconds("PROVIDER_TIMEOUT", 10),
            ch_write_timeout: env.store_deadline("CH_QUERY_TIMEOUT_MS", 10_000, request_timeout),
            ch_breaker: env.breaker("CH"),
            pg_query_timeout: env.store_deadline("PG_QUERY_TIMEOUT_MS", 10_000, request_timeout),
            pg_breaker: env.breaker("PG"),
            pg_probe: env.probe("PG"),
            ch_probe: env.probe("CH"),
            slow_query: Duration::from_millis(env.or("SLOW_QUERY_MS", 500)),
            instance: env.or("HOSTNAME", "beat".to_owned()),
            backoff: Backoff {
                base: env.seconds("CREDENTIAL_BACKOFF", 60),
                max: env.seconds("CREDENTIAL_BACKOFF_MAX", 3600),
            },
            sources,
            workers: Workers::from_env(&mut env),
        };
        env.finish()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_redis_password_is_not_in_debug_output() {
        let cfg = Config::from_env(Env::from_pairs([
            ("REDIS_URL", "redis://:hunter2@redis:6379"),
            ("PG_HOST", "pg"),
            ("PG_USER", "beat"),
            ("PG_DB", "beat"),
            ("CH_HOST", "ch"),
            ("CH_DB", "beat"),
        ]))
        .unwrap();
        assert_eq!(cfg.redis_url.expose_secret(), "redis://:hunter2@redis:6379");
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }

    #[test]
    fn redis_url_is_validated() {
        let err = Config::from_env(Env::from_pairs([("REDIS_URL", "http://x")])).unwrap_err().to_string();
        assert!(err.contains("REDIS_URL: must start with redis://"), "{err}");
    }

    #[test]
    fn sources_and_limits_are_validated_and_named() {
        let err = Config::from_env(Env::from_pairs([
            ("REDIS_URL", "redis://x"),
            ("INSTAGRAM_SOURCES", "rocketapi,youtube138,nope"),
            ("REFRESH_LIMITS", "daily=0/1day"),
            ("SOURCE_URL_ROCKETAPI", "ftp://x"),
        ]))
        .unwrap_err()
        .to_string();
        for want in [
            "INSTAGRAM_SOURCES: youtube138 is not a instagram source",
            "INSTAGRAM_SOURCES: unknown source \"nope\"",
            "REFRESH_LIMITS: limit \"daily\": requests must be between 1",
            "SOURCE_URL_ROCKETAPI: must be an http",
        ] {
            assert!(err.contains(want), "{want} in {err}");
        }
        let err =
            Config::from_env(Env::from_pairs([("REDIS_URL", "redis://x"), ("FLOWS", "posts_refresh=0,nope=2,x")]))
                .unwrap_err()
                .to_string();
        assert!(err.contains("FLOWS: \"posts_refresh=0\" is not name=concurrency"), "{err}");
        assert!(err.contains("FLOWS: unknown flow \"nope\""), "{err}");
        let ok = Config::from_env(Env::from_pairs([
            ("FLOWS", "posts_refresh=2:-1"),
            ("REDIS_URL", "redis://x"),
            ("PG_HOST", "h"),
            ("PG_USER", "u"),
            ("PG_DB", "d"),
            ("CH_HOST", "h"),
            ("CH_DB", "d"),
        ]))
        .unwrap();
        assert_eq!(ok.sources[0].1.len(), 4);
        assert_eq!(ok.sources[1].1[0].name, "youtube138");
        assert_eq!(ok.refresh_limits.limits().len(), 3);
        let flows = crate::queue::worker::flows(8, &ok.workers.unwrap().flows);
        assert_eq!((flows[1].concurrency, flows[1].priority, flows[0].concurrency), (2, -1, 8));
    }
}
