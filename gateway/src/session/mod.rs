//! Is this session (or API key) live? Three tiers, cheapest first:
//! 1. an in-process moka cache (`SESSION_CACHE_TTL`, `SESSION_CACHE_CAPACITY`; see [`tiers`]),
//!    emptied of a session as soon as a logout is announced on the invalidation channel;
//! 2. Redis Cluster `session:{<sid>}` (see `store::sessions`), written by coffee's identity
//!    module and removed, with a tombstone, at logout; every call bounded by `REDIS_TIMEOUT_MS`,
//!    and a Redis failure falls through to the next tier instead of failing the request;
//! 3. coffee's `POST /identity/verify` ([`crate::upstream::identity`]), which checks Postgres.
//!
//! API keys ([`keys`]) go through the same three tiers (`apikey:{<hash>}` in Redis, coffee's
//! `POST /identity/api-keys/verify`) and the same invalidation channel.
//!
//! The in-process tier is sized for a million sessions: it is keyed by the session id's 128
//! bits (coffee issues UUIDs; the token check refuses anything else) and holds a compact,
//! shared [`CachedSession`], so a hit copies a pointer rather than two strings.

pub mod invalidation;
pub mod keys;
pub mod tiers;

use std::sync::Arc;

use chrono::Utc;
use store::sessions::SessionCache;
pub use tenancy::SessionInfo as Session;

use crate::error::{AuthFailure, GatewayError};
use crate::upstream::identity::IdentityClient;

pub use tiers::{Fresh, Sizing, Tier};
use tiers::{Memory, MemorySettings};

/// What the gateway keeps of a live session.
#[derive(Debug, PartialEq, Eq)]
pub struct CachedSession {
    pub user_id: i64,
    pub partner_id: i64,
    pub account_id: Option<i64>,
    pub expires_at: chrono::DateTime<Utc>,
    pub user_name: Box<str>,
}

impl From<Session> for CachedSession {
    fn from(s: Session) -> Self {
        Self {
            user_id: s.user_id,
            partner_id: s.partner_id,
            account_id: s.account_id,
            expires_at: s.expires_at,
            user_name: s.user_name.into_boxed_str(),
        }
    }
}

/// A session id as the in-process tier keys it (`None`: not a session id at all).
pub fn key_of(sid: &str) -> Option<u128> {
    tenancy::session_id(sid)
}

pub struct SessionTiers {
    memory: Memory<CachedSession>,
    redis: SessionCache,
    identity: IdentityClient,
}

impl SessionTiers {
    pub fn new(redis: SessionCache, identity: IdentityClient, sizing: Sizing, hooks: platform::hooks::Hooks) -> Self {
        let settings = MemorySettings {
            sizing,
            refusal: AuthFailure::Revoked,
            metric: "gateway_session_lookups_total",
            loaded_pause: "gateway.session.loaded",
        };
        Self { memory: Memory::new(settings, hooks), redis, identity }
    }

    pub fn identity(&self) -> &IdentityClient {
        &self.identity
    }

    /// The Redis tier (its breaker tells whether Redis is being asked).
    pub fn redis(&self) -> &SessionCache {
        &self.redis
    }

    /// The live session `sid` of `token` (already signature-checked), and the tier that knew.
    pub async fn resolve(&self, sid: &str, token: &str) -> Result<(Arc<Fresh<CachedSession>>, Tier), GatewayError> {
        let key = key_of(sid).ok_or(GatewayError::Unauthorized(AuthFailure::Malformed))?;
        let (session, tier) = self.memory.resolve(key, || self.load(sid, token)).await?;
        if session.expires_at <= Utc::now() {
            self.memory.invalidate(key).await;
            return Err(GatewayError::Unauthorized(AuthFailure::Expired));
        }
        self.memory.count(tier);
        Ok((session, tier))
    }

    /// A logout was announced: refuse the session from now on, in this process.
    pub async fn forget(&self, sid: &str) {
        // anything else is refused before any tier is asked (see `resolve`)
        if let Some(key) = key_of(sid) {
            self.memory.forget(key).await;
        }
    }

    /// Drops every cached session (after missing announcements while reconnecting).
    pub fn forget_all(&self) {
        self.memory.forget_all();
    }

    /// Whether this process has heard that `sid` was revoked (tests).
    pub fn is_revoked_here(&self, sid: &str) -> bool {
        key_of(sid).is_some_and(|key| self.memory.is_revoked_here(key))
    }

    /// Whether `sid` is held in process (tests).
    pub async fn in_memory(&self, sid: &str) -> bool {
        match key_of(sid) {
            Some(key) => self.memory.holds(key).await,
            None => false,
        }
    }

    /// Sessions held in process (approximate; for metrics and benchmarks).
    pub fn cached(&self) -> u64 {
        self.memory.cached()
    }

    /// Lets the in-process tier finish its pending bookkeeping (benchmarks, before measuring).
    pub async fn run_pending_tasks(&self) {
        self.memory.run_pending_tasks().await;
    }

    /// Inserts a session into the in-process tier directly (benchmarks fill it this way).
    pub async fn remember(&self, session: Session) {
        if let Some(key) = key_of(&session.sid) {
            self.memory.insert(key, session.into()).await;
        }
    }

    async fn load(&self, sid: &str, token: &str) -> Result<(CachedSession, Tier), GatewayError> {
        match self.redis.get(sid).await {
            Ok(Some(session)) => return Ok((session.into(), Tier::Redis)),
            Ok(None) => {}
            // Redis being down or slow must not log everybody out: identity still knows
            Err(e) => {
                metrics::counter!("gateway_session_redis_errors_total").increment(1);
                tracing::warn!(error = %e, "redis session lookup failed; asking identity");
            }
        }
        metrics::counter!("gateway_identity_fallbacks_total").increment(1);
        self.identity.verify(token).await.map(|session| (session.into(), Tier::Identity))
    }
}
