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
}

pub struct SessionTiers {
    memory: moka::future::Cache<String, Session>,
    revoked: moka::sync::Cache<String, ()>,
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
            memory: moka::future::Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            revoked: moka::sync::Cache::builder().max_capacity(capacity).time_to_live(revoked_for).build(),
            redis,
            identity,
            hooks,
        }
    }

    pub fn identity(&self) -> &IdentityClient {
        &self.identity
    }

    /// The live session `sid` of `token` (already signature-checked), and the tier that knew.
    pub async fn resolve(&self, sid: &str, token: &str) -> Result<(Session, Tier), GatewayError> {
        if self.revoked.contains_key(sid) {
            return Err(GatewayError::Unauthorized(AuthFailure::Revoked));
        }
        let mut tier = Tier::Memory;
        let session = self
            .memory
            .try_get_with_by_ref(sid, async {
                let (session, from) = self.load(sid, token).await?;
                tier = from;
                self.hooks.pause("gateway.session.loaded").await;
                Ok::<_, GatewayError>(session)
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
        if self.revoked.contains_key(sid) {
            // the logout arrived while this session was being loaded: it wins
            self.memory.invalidate(sid).await;
            metrics::counter!("gateway_session_fenced_loads_total").increment(1);
            return Err(GatewayError::Unauthorized(AuthFailure::Revoked));
        }
        if session.expires_at <= Utc::now() {
            self.memory.invalidate(sid).await;
            return Err(GatewayError::Unauthorized(AuthFailure::Expired));
        }
        metrics::counter!("gateway_session_lookups_total", "tier" => tier.label()).increment(1);
        Ok((session, tier))
    }

    /// A logout was announced: refuse the session from now on, in this process.
    pub async fn forget(&self, sid: &str) {
        self.revoked.insert(sid.to_owned(), ());
        self.memory.invalidate(sid).await;
    }

    /// Drops every cached session (after missing announcements while reconnecting).
    pub fn forget_all(&self) {
        self.memory.invalidate_all();
    }

    /// Whether this process has heard that `sid` was revoked (tests).
    pub fn is_revoked_here(&self, sid: &str) -> bool {
        self.revoked.contains_key(sid)
    }

    /// Whether `sid` is held in process (tests).
    pub async fn in_memory(&self, sid: &str) -> bool {
        self.memory.get(sid).await.is_some()
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
        self.memory.insert(session.sid.clone(), session).await;
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
