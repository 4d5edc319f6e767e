//! Is this session live? Three tiers, cheapest first:
//! 1. an in-process moka cache (`SESSION_CACHE_TTL`, `SESSION_CACHE_CAPACITY`), emptied of a
//!    session as soon as a logout is announced on the invalidation channel;
//! 2. Redis Cluster `session:{<sid>}` (see `store::sessions`), written by coffee's identity
//!    module and removed, with a tombstone, at logout; every call bounded by `REDIS_TIMEOUT_MS`,
//!    and a Redis failure falls through to the next tier instead of failing the request;
//! 3. coffee's `POST /identity/verify` ([`crate::upstream::identity`]), which checks Postgres.
//!
//! Concurrent misses for one session share a single lookup (moka's `try_get_with`). That
//! lookup can race with a logout: the invalidation may arrive while the lookup is in flight,
//! and moka would then insert the stale session after the invalidation ran. So invalidations
//! also go into a short-lived revoked set (kept for the in-process TTL plus the request
//! timeout), checked before and after every resolution: an invalidation that arrives during a
//! load wins, and the loaded session is dropped.
//!
//! The in-process tier is sized for a million sessions: it is keyed by the session id's 128
//! bits (coffee issues UUIDs; the token check refuses anything else) and holds a compact,
//! shared [`CachedSession`], so a hit copies a pointer rather than two strings.

pub mod invalidation;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use store::sessions::SessionCache;
pub use tenancy::SessionInfo as Session;

use crate::error::{AuthFailure, GatewayError};
use crate::upstream::identity::IdentityClient;

/// Which tier answered, for metrics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tier {
    Memory,
    Redis,
    Identity,
}

impl Tier {
    fn label(self) -> &'static str {
        match self {
            Tier::Memory => "memory",
            Tier::Redis => "redis",
            Tier::Identity => "identity",
        }
    }

    /// `gateway_session_lookups_total` of this tier (registered once, counted on every request).
    fn lookups(self) -> &'static metrics::Counter {
        static LOOKUPS: std::sync::OnceLock<[metrics::Counter; 3]> = std::sync::OnceLock::new();
        let counters = LOOKUPS.get_or_init(|| {
            [Tier::Memory, Tier::Redis, Tier::Identity]
                .map(|t| metrics::counter!("gateway_session_lookups_total", "tier" => t.label()))
        });
        &counters[self as usize]
    }
}

/// What the gateway keeps of a live session.
#[derive(Debug, PartialEq, Eq)]
pub struct CachedSession {
    pub user_id: i64,
    pub partner_id: i64,
    pub account_id: Option<i64>,
    pub expires_at: chrono::DateTime<Utc>,
    pub user_name: Box<str>,
    /// When this copy is too old to serve (`SESSION_CACHE_TTL` after it was cached), in
    /// seconds on [`clock`]: checked on read, instead of an expiry queue per entry.
    stale_at: u32,
}

impl CachedSession {
    fn new(s: Session, ttl: Duration) -> Self {
        Self {
            user_id: s.user_id,
            partner_id: s.partner_id,
            account_id: s.account_id,
            expires_at: s.expires_at,
            user_name: s.user_name.into_boxed_str(),
            // whole seconds: served for at most `ttl` plus one second
            stale_at: clock().saturating_add(u32::try_from(ttl.as_secs()).unwrap_or(u32::MAX)).saturating_add(1),
        }
    }

    fn is_stale(&self) -> bool {
        clock() >= self.stale_at
    }
}

/// Whole seconds since the tier's clock started (the process's first use).
fn clock() -> u32 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    u32::try_from(START.get_or_init(std::time::Instant::now).elapsed().as_secs()).unwrap_or(u32::MAX)
}

/// A session id as the in-process tier keys it (`None`: not a session id at all).
pub fn key_of(sid: &str) -> Option<u128> {
    tenancy::session_id(sid)
}

type Hasher = foldhash::fast::RandomState;

pub struct SessionTiers {
    memory: moka::future::Cache<u128, Arc<CachedSession>, Hasher>,
    /// Session ids (as keyed in memory) whose logout this process has heard of.
    revoked: moka::sync::Cache<u128, (), Hasher>,
    ttl: Duration,
    redis: SessionCache,
    identity: IdentityClient,
    hooks: platform::hooks::Hooks,
}

impl SessionTiers {
    pub fn new(
        redis: SessionCache,
        identity: IdentityClient,
        ttl: Duration,
        capacity: u64,
        revoked_for: Duration,
        hooks: platform::hooks::Hooks,
    ) -> Self {
        Self {
            // no per-entry expiry queue (it costs memory for each of a million entries): a copy
            // older than `ttl` is dropped when read, and capacity evicts the rest
            memory: moka::future::Cache::builder().max_capacity(capacity).build_with_hasher(Hasher::default()),
            ttl,
            revoked: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(revoked_for)
                .build_with_hasher(Hasher::default()),
            redis,
            identity,
            hooks,
        }
    }

    pub fn identity(&self) -> &IdentityClient {
        &self.identity
    }

    /// The Redis tier (its breaker tells whether Redis is being asked).
    pub fn redis(&self) -> &SessionCache {
        &self.redis
    }

    /// The live session `sid` of `token` (already signature-checked), and the tier that knew.
    pub async fn resolve(&self, sid: &str, token: &str) -> Result<(Arc<CachedSession>, Tier), GatewayError> {
        let key = key_of(sid).ok_or(GatewayError::Unauthorized(AuthFailure::Malformed))?;
        if self.revoked.contains_key(&key) {
            return Err(GatewayError::Unauthorized(AuthFailure::Revoked));
        }
        let mut session = self.lookup(key, sid, token).await?;
        if session.0.is_stale() {
            // cached too long ago: ask the tiers below again
            self.memory.invalidate(&key).await;
            session = self.lookup(key, sid, token).await?;
        }
        let (session, tier) = session;
        if self.revoked.contains_key(&key) {
            // the logout arrived while this session was being loaded: it wins
            self.memory.invalidate(&key).await;
            metrics::counter!("gateway_session_fenced_loads_total").increment(1);
            return Err(GatewayError::Unauthorized(AuthFailure::Revoked));
        }
        if session.expires_at <= Utc::now() {
            self.memory.invalidate(&key).await;
            return Err(GatewayError::Unauthorized(AuthFailure::Expired));
        }
        tier.lookups().increment(1);
        Ok((session, tier))
    }

    /// The session from memory, or loaded into it from the tiers below (one load per session
    /// at a time), and which tier answered.
    async fn lookup(&self, key: u128, sid: &str, token: &str) -> Result<(Arc<CachedSession>, Tier), GatewayError> {
        // a hit stays small: the load (Redis and identity calls, whole futures) is built, boxed,
        // only on a miss
        if let Some(session) = self.memory.get(&key).await {
            return Ok((session, Tier::Memory));
        }
        Box::pin(self.load_into_memory(key, sid, token)).await
    }

    /// The session loaded into memory from the tiers below, one load per session at a time.
    async fn load_into_memory(
        &self,
        key: u128,
        sid: &str,
        token: &str,
    ) -> Result<(Arc<CachedSession>, Tier), GatewayError> {
        let mut tier = Tier::Memory;
        let session = self
            .memory
            .try_get_with(key, async {
                let (session, from) = self.load(sid, token).await?;
                tier = from;
                self.hooks.pause("gateway.session.loaded").await;
                Ok::<_, GatewayError>(Arc::new(CachedSession::new(session, self.ttl)))
            })
            .await
            .map_err(|e: Arc<GatewayError>| match &*e {
                GatewayError::Unauthorized(why) => GatewayError::Unauthorized(*why),
                GatewayError::Unavailable { what, retry_after } => {
                    GatewayError::Unavailable { what, retry_after: *retry_after }
                }
                GatewayError::UpstreamTimeout(what) => GatewayError::UpstreamTimeout(what),
                GatewayError::Upstream { what, cause } => GatewayError::Upstream { what, cause: cause.clone() },
                other => GatewayError::Upstream { what: "identity", cause: other.to_string() },
            })?;
        Ok((session, tier))
    }

    /// A logout was announced: refuse the session from now on, in this process.
    pub async fn forget(&self, sid: &str) {
        // anything else is refused before any tier is asked (see `resolve`)
        if let Some(key) = key_of(sid) {
            self.revoked.insert(key, ());
            self.memory.invalidate(&key).await;
        }
    }

    /// Drops every cached session (after missing announcements while reconnecting).
    pub fn forget_all(&self) {
        self.memory.invalidate_all();
    }

    /// Whether this process has heard that `sid` was revoked (tests).
    pub fn is_revoked_here(&self, sid: &str) -> bool {
        key_of(sid).is_some_and(|key| self.revoked.contains_key(&key))
    }

    /// Whether `sid` is held in process (tests).
    pub async fn in_memory(&self, sid: &str) -> bool {
        match key_of(sid) {
            Some(key) => self.memory.get(&key).await.is_some(),
            None => false,
        }
    }

    /// Sessions held in process (approximate; for metrics and benchmarks).
    pub fn cached(&self) -> u64 {
        self.memory.entry_count()
    }

    /// Lets the in-process tier finish its pending bookkeeping (benchmarks, before measuring).
    pub async fn run_pending_tasks(&self) {
        self.memory.run_pending_tasks().await;
    }

    /// Inserts a session into the in-process tier directly (benchmarks fill it this way).
    pub async fn remember(&self, session: Session) {
        if let Some(key) = key_of(&session.sid) {
            self.memory.insert(key, Arc::new(CachedSession::new(session, self.ttl))).await;
        }
    }

    async fn load(&self, sid: &str, token: &str) -> Result<(Session, Tier), GatewayError> {
        match self.redis.get(sid).await {
            Ok(Some(session)) => return Ok((session, Tier::Redis)),
            Ok(None) => {}
            // Redis being down or slow must not log everybody out: identity still knows
            Err(e) => {
                metrics::counter!("gateway_session_redis_errors_total").increment(1);
                tracing::warn!(error = %e, "redis session lookup failed; asking identity");
            }
        }
        metrics::counter!("gateway_identity_fallbacks_total").increment(1);
        self.identity.verify(token).await.map(|session| (session, Tier::Identity))
    }
}
