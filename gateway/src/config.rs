//! gateway's configuration: the environment variable names existing deployments already set
//! (`REDIS_CLUSTER_ADDRESSES`, `HMAC_SECRET`, ...) plus the edge's own
//! (token checks, limits, body size, CORS, degraded-mode bounds).

use std::time::Duration;

use platform::config::{ConfigError, Env, ExposeSecret, RedisClusterConfig, ServerConfig};
use ratelimit::{FailureMode, Limit, StackPolicy};
use tenancy::PlanType;

pub const DEFAULT_PORT: u16 = 8009;

#[derive(Debug, Clone)]
pub struct Config {
    pub server: ServerConfig,
    pub redis: RedisClusterConfig,
    /// `HMAC_SECRET`: base64 of the HS256 key that signs session tokens (shared with coffee's
    /// identity module).
    pub hmac_key: secrecy::SecretSlice<u8>,
    /// `JWT_ISSUER`: the `iss` every token must carry.
    pub jwt_issuer: String,
    /// `JWT_LEEWAY`: seconds of clock skew allowed on `exp` and `nbf` (default 30).
    pub jwt_leeway: Duration,
    /// `TENANT_SIGNING_SECRET`: base64 of the key the injected tenant headers are signed with
    /// (distinct from `HMAC_SECRET`). Unset: the headers go unsigned.
    pub tenant_signing_key: Option<tenancy::SigningKey>,
    /// `COFFEE_URL`: where the coffee, identity and partner modules are served.
    pub coffee_url: String,
    /// `BEAT_URL`: where beat is served; `/beat/{*rest}` goes there as `/{rest}`.
    pub beat_url: String,
    /// `SESSION_CACHE_TTL`: how long a session stays in the in-process cache, in seconds
    /// (logouts evict it at once through the invalidation channel).
    pub session_cache_ttl: Duration,
    /// `SESSION_CACHE_CAPACITY`: sessions kept in process.
    pub session_cache_capacity: u64,
    /// `PLAN_CACHE_TTL`: how long a partner's plan is fresh, in seconds.
    pub plan_cache_ttl: Duration,
    /// `PLAN_STALE_MAX`: how long a known plan keeps being served while coffee cannot be asked
    /// again, in seconds (default 3600).
    pub plan_stale_max: Duration,
    /// `IDENTITY_TIMEOUT_MS`: bound on one call to coffee's identity or partner module.
    pub identity_timeout: Duration,
    /// `IDENTITY_BREAKER_FAILURES` consecutive failures open the identity breaker for
    /// `IDENTITY_BREAKER_COOLDOWN` seconds (session misses are then 503 at once).
    pub identity_breaker: breaker::Settings,
    /// `INVALIDATION_PING_MS`: how often the invalidation subscription is pinged; an unanswered
    /// ping means the connection is dead and the in-process sessions are dropped.
    pub invalidation_ping: Duration,
    /// `API_KEY_USE_REPORT_MS`: how often the API keys used since the last report are sent to
    /// Redis (one command), where the key list reads their last use.
    pub api_key_use_report: Duration,
    /// `CORS_ORIGINS`: browser origins allowed to call the API (comma-separated; empty: none).
    pub cors_origins: Vec<String>,
    /// `DASHBOARD_DIR`: the built partner dashboard (a folder with `index.html` and hashed
    /// `assets/`), served at `/`. Unset: no dashboard, `/` is a 404.
    pub dashboard_dir: Option<std::path::PathBuf>,
    /// The edge's rate limits (see [`EdgeLimits`]).
    pub limits: EdgeLimits,
    /// `REDIS_KEY_PREFIX`: prepended to every Redis key and channel (tests isolate with it).
    pub redis_key_prefix: String,
    /// Test-only pause points; nothing is armed in a configured gateway.
    pub hooks: platform::hooks::Hooks,
}

/// The edge's limit stacks, each decided in one Redis round trip, failing open (an edge limit
/// protects the services; it must not take them down with Redis). Compact form per variable:
/// `name=requests/period[;calendar][;burst=N]`, levels comma-separated.
/// - `RATE_LIMIT_FREE`, `RATE_LIMIT_SAAS`, `RATE_LIMIT_PAID`: per partner, by plan;
/// - `RATE_LIMIT_CLIENT`: per client (`x-bb-client-id`, else the user), decided with the plan's;
/// - `RATE_LIMIT_IP`: per client IP on routes without a session;
/// - `RATE_LIMIT_LOGIN`: per email and IP on `/identity/login`, decided with the IP's;
/// - `RATE_LIMIT_KEY_FAILURES`: refused API keys per client IP (default 10 a minute); past it,
///   that IP's key checks that memory cannot answer are refused (429) before any lookup;
/// - `RATE_LIMIT_LEASE` (default 20): units a gateway may take per round trip and spend in
///   process, for generous limits (at most a tenth of a stack's tightest level, so tight limits
///   stay exact; see `ratelimit::lease`).
#[derive(Debug, Clone)]
pub struct EdgeLimits {
    pub free: StackPolicy,
    pub saas: StackPolicy,
    pub paid: StackPolicy,
    pub public: StackPolicy,
    pub login: StackPolicy,
    pub key_failures: StackPolicy,
    /// How many of each partner stack's levels, the last ones (from `RATE_LIMIT_CLIENT`), are
    /// keyed per client; the others are keyed per partner.
    pub client_levels: usize,
}

impl EdgeLimits {
    /// The stack for a partner on `plan` (its plan levels, then the client level).
    pub fn for_plan(&self, plan: PlanType) -> &StackPolicy {
        match plan {
            PlanType::Free => &self.free,
            PlanType::Saas => &self.saas,
            PlanType::Paid => &self.paid,
        }
    }

    fn from_env(env: &mut Env, timeout: Duration) -> Self {
        let lease: u64 = env.or("RATE_LIMIT_LEASE", 20);
        let parse = |env: &mut Env, var: &str, default: &str| {
            let raw: String = env.or(var, default.to_owned());
            match StackPolicy::parse(&var.to_lowercase(), &raw) {
                Ok(p) => p.limits().to_vec(),
                Err(e) => {
                    env.invalid(var, e.to_string());
                    Vec::new()
                }
            }
        };
        // a stack failing validation is reported against `var`; the placeholder is never used,
        // since the configuration as a whole is then refused
        let build = |env: &mut Env, var: &str, name: &str, levels: Vec<Limit>| {
            StackPolicy::new(name, levels)
                .map(|p| p.on_failure(FailureMode::Open))
                .and_then(|p| p.with_timeout(timeout))
                .and_then(|p| p.with_lease(lease))
                .unwrap_or_else(|e| {
                    env.invalid(var, e.to_string());
                    StackPolicy::parse("invalid", "invalid=1/1s").expect("a valid literal")
                })
        };
        let client = parse(env, "RATE_LIMIT_CLIENT", "client=20/1s");
        let ip = parse(env, "RATE_LIMIT_IP", "ip=20/1s");
        let login = parse(env, "RATE_LIMIT_LOGIN", "login=10/1m");
        let key_failures = parse(env, "RATE_LIMIT_KEY_FAILURES", "key_failures=10/1m");
        let plan = |env: &mut Env, var: &str, name: &str, default: &str| {
            let levels = [parse(env, var, default), client.clone()].concat();
            build(env, var, name, levels)
        };
        Self {
            free: plan(env, "RATE_LIMIT_FREE", "edge_free", "partner=120/1m"),
            saas: plan(env, "RATE_LIMIT_SAAS", "edge_saas", "partner=50/1s"),
            paid: plan(env, "RATE_LIMIT_PAID", "edge_paid", "partner=200/1s"),
            public: build(env, "RATE_LIMIT_IP", "edge_public", ip.clone()),
            login: build(env, "RATE_LIMIT_LOGIN", "edge_login", [ip, login].concat()),
            key_failures: build(env, "RATE_LIMIT_KEY_FAILURES", "edge_key_failures", key_failures),
            client_levels: client.len(),
        }
    }
}

impl Config {
    pub fn from_env(mut env: Env) -> Result<Self, ConfigError> {
        let redis = RedisClusterConfig::from_env(&mut env);
        let limits = EdgeLimits::from_env(&mut env, redis.timeout.max(Duration::from_millis(1)));
        let cfg = Self {
            server: ServerConfig::from_env(&mut env, DEFAULT_PORT),
            hmac_key: env.hmac_key("HMAC_SECRET"),
            jwt_issuer: env.or("JWT_ISSUER", tenancy::DEFAULT_ISSUER.to_owned()),
            jwt_leeway: env.seconds("JWT_LEEWAY", 30),
            tenant_signing_key: None,
            coffee_url: env.or("COFFEE_URL", "http://127.0.0.1:7179".to_owned()),
            beat_url: env.or("BEAT_URL", "http://127.0.0.1:8000".to_owned()),
            session_cache_ttl: env.seconds("SESSION_CACHE_TTL", 60),
            session_cache_capacity: env.or("SESSION_CACHE_CAPACITY", 100_000),
            plan_cache_ttl: env.seconds("PLAN_CACHE_TTL", 300),
            plan_stale_max: env.seconds("PLAN_STALE_MAX", 3600),
            identity_timeout: env.millis("IDENTITY_TIMEOUT_MS", 2000),
            identity_breaker: env.breaker("IDENTITY"),
            invalidation_ping: env.millis("INVALIDATION_PING_MS", 5000),
            api_key_use_report: env.millis("API_KEY_USE_REPORT_MS", 5000),
            cors_origins: env.list("CORS_ORIGINS"),
            dashboard_dir: env.optional("DASHBOARD_DIR"),
            limits,
            redis_key_prefix: env.or("REDIS_KEY_PREFIX", String::new()),
            hooks: platform::hooks::Hooks::default(),
            redis,
        };
        let signing = env.optional_hmac_key("TENANT_SIGNING_SECRET");
        if let Some(key) = &signing {
            if key.expose_secret() == cfg.hmac_key.expose_secret() {
                env.invalid("TENANT_SIGNING_SECRET", "must differ from HMAC_SECRET");
            }
        }
        for (name, url) in [("COFFEE_URL", &cfg.coffee_url), ("BEAT_URL", &cfg.beat_url)] {
            match url.parse::<axum::http::Uri>() {
                Ok(uri) if uri.scheme_str() == Some("http") && uri.authority().is_some() => {}
                _ => env.invalid(name, "must be an http:// URL with a host"),
            }
        }
        for origin in &cfg.cors_origins {
            if origin.parse::<axum::http::HeaderValue>().is_err() || !origin.starts_with("http") {
                env.invalid("CORS_ORIGINS", format!("{origin:?} is not an origin such as https://app.example.com"));
            }
        }
        if let Some(dir) = &cfg.dashboard_dir {
            if !dir.join("index.html").is_file() {
                env.invalid(
                    "DASHBOARD_DIR",
                    format!("{} has no index.html (build the dashboard first)", dir.display()),
                );
            }
        }
        for (name, zero) in [
            ("IDENTITY_TIMEOUT_MS", cfg.identity_timeout.is_zero()),
            ("INVALIDATION_PING_MS", cfg.invalidation_ping.is_zero()),
            ("API_KEY_USE_REPORT_MS", cfg.api_key_use_report.is_zero()),
            ("SESSION_CACHE_CAPACITY", cfg.session_cache_capacity == 0),
        ] {
            if zero {
                env.invalid(name, "must be positive");
            }
        }
        env.finish()?;
        Ok(Self {
            coffee_url: cfg.coffee_url.trim_end_matches('/').to_owned(),
            beat_url: cfg.beat_url.trim_end_matches('/').to_owned(),
            tenant_signing_key: signing.map(|k| tenancy::SigningKey::new(k.expose_secret().to_vec())),
            ..cfg
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGVzdC1vbmx5LWhtYWMtc2VjcmV0LTMyLWJ5dGVzLWxvbmc=";

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

    #[test]
    fn limits_and_edge_settings_are_validated() {
        let base = [("REDIS_CLUSTER_ADDRESSES", "127.0.0.1:1"), ("HMAC_SECRET", KEY)];
        let cfg = Config::from_env(Env::from_pairs(base)).unwrap();
        assert_eq!(cfg.jwt_leeway, Duration::from_secs(30));
        assert_eq!(cfg.server.max_body_bytes, 10 * 1024 * 1024);
        let names: Vec<_> = cfg.limits.for_plan(PlanType::Free).limits().iter().map(|l| l.name().to_owned()).collect();
        assert_eq!(names, ["partner", "client"]);
        let names: Vec<_> = cfg.limits.login.limits().iter().map(|l| l.name().to_owned()).collect();
        assert_eq!(names, ["ip", "login"]);
        assert_eq!(cfg.limits.public.failure_mode(), FailureMode::Open);

        let bad = Config::from_env(Env::from_pairs(base.into_iter().chain([
            ("RATE_LIMIT_SAAS", "partner=0/1s"),
            ("RATE_LIMIT_CLIENT", "partner=5/1s"),
            ("TENANT_SIGNING_SECRET", KEY),
            ("CORS_ORIGINS", "not an origin"),
            ("MAX_BODY_BYTES", "0"),
        ])))
        .unwrap_err()
        .to_string();
        for var in ["RATE_LIMIT_SAAS", "RATE_LIMIT_FREE", "TENANT_SIGNING_SECRET", "CORS_ORIGINS", "MAX_BODY_BYTES"] {
            assert!(bad.contains(var), "{var} missing from: {bad}");
        }
        assert!(bad.contains("must differ from HMAC_SECRET"), "{bad}");
    }
}
