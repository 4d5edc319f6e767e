//! Is this session live? Three tiers, cheapest first:
//! 1. an in-process moka cache (`SESSION_CACHE_TTL`, `SESSION_CACHE_CAPACITY`), emptied of a
//!    session as soon as a logout is announced on the invalidation channel;
//! 2. Redis Cluster `session:{sid}`, written by coffee's identity module at login with the
//!    token's TTL and deleted at logout;
//! 3. coffee's `POST /identity/verify`, which checks Postgres (and re-warms Redis).
//!
//! Concurrent misses for one session share a single lookup (moka's `try_get_with`).

pub mod invalidation;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use redis::AsyncCommands;
pub use tenancy::SessionInfo as Session;

use crate::error::GatewayError;

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
    redis: redis::cluster_async::ClusterConnection,
    key_prefix: String,
    http: reqwest::Client,
    verify_url: String,
}

impl SessionTiers {
    pub fn new(
        redis: redis::cluster_async::ClusterConnection,
        key_prefix: String,
        http: reqwest::Client,
        coffee_url: &str,
        ttl: Duration,
        capacity: u64,
    ) -> Self {
        Self {
            memory: moka::future::Cache::builder().max_capacity(capacity).time_to_live(ttl).build(),
            redis,
            key_prefix,
            http,
            verify_url: format!("{coffee_url}/identity/verify"),
        }
    }

    /// The live session `sid` of `token` (already signature-checked), and the tier that knew.
    pub async fn resolve(&self, sid: &str, token: &str) -> Result<(Session, Tier), GatewayError> {
        let mut tier = Tier::Memory;
        let session = self
            .memory
            .try_get_with_by_ref(sid, async {
                let (session, from) = self.load(sid, token).await?;
                tier = from;
                Ok::<_, GatewayError>(session)
            })
            .await
            .map_err(|e: Arc<GatewayError>| match &*e {
                GatewayError::Unauthorized(m) => GatewayError::Unauthorized(m.clone()),
                GatewayError::Upstream { what, cause } => GatewayError::Upstream { what, cause: cause.clone() },
                other => GatewayError::Upstream { what: "identity", cause: other.to_string() },
            })?;
        if session.expires_at <= Utc::now() {
            self.memory.invalidate(sid).await;
            return Err(GatewayError::Unauthorized("the session has expired".into()));
        }
        metrics::counter!("gateway_session_lookups_total", "tier" => tier.label()).increment(1);
        Ok((session, tier))
    }

    /// Drops a session from this process (on a logout announcement).
    pub async fn forget(&self, sid: &str) {
        self.memory.invalidate(sid).await;
    }

    /// Drops every cached session (after missing announcements while reconnecting).
    pub fn forget_all(&self) {
        self.memory.invalidate_all();
    }

    async fn load(&self, sid: &str, token: &str) -> Result<(Session, Tier), GatewayError> {
        let key = tenancy::session_key(&self.key_prefix, sid);
        match self.redis.clone().get::<_, Option<String>>(&key).await {
            Ok(Some(json)) => match serde_json::from_str::<Session>(&json) {
                Ok(session) if session.sid == sid => return Ok((session, Tier::Redis)),
                Ok(_) => tracing::warn!(%key, "cached session belongs to another sid; asking identity"),
                Err(e) => tracing::warn!(error = %e, %key, "unreadable cached session; asking identity"),
            },
            Ok(None) => {}
            // Redis being down must not log everybody out: identity still knows
            Err(e) => tracing::warn!(error = %e, "redis session lookup failed; asking identity"),
        }
        let response = self
            .http
            .post(&self.verify_url)
            .json(&serde_json::json!({ "token": token }))
            .send()
            .await
            .map_err(|e| GatewayError::Upstream { what: "identity", cause: e.to_string() })?;
        match response.status() {
            s if s.is_success() => response
                .json::<Session>()
                .await
                .map(|session| (session, Tier::Identity))
                .map_err(|e| GatewayError::Upstream { what: "identity", cause: e.to_string() }),
            s if s == reqwest::StatusCode::UNAUTHORIZED => {
                Err(GatewayError::Unauthorized("the session has ended (logged out or expired)".into()))
            }
            s => Err(GatewayError::Upstream { what: "identity", cause: format!("verify answered {s}") }),
        }
    }
}
