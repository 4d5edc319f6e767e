//! The Redis side of sessions, shared by the identity module (which writes and revokes) and the
//! gateway (which reads): `session:{<sid>}` holds a live session for its remaining life, and
//! `session-revoked:{<sid>}` is the tombstone a logout leaves for the token's remaining life.
//!
//! A revoked session must never come back. Two writers race with a logout: a verify that read
//! the session from Postgres just before the logout committed, and a login's own after-commit
//! write. Both write through [`SessionCache::put`], one Lua script that refuses when the
//! tombstone exists; [`SessionCache::revoke`] sets the tombstone, deletes the session and
//! announces the logout on the invalidation channel in one script, so there is no moment when
//! the session is gone but a late writer may still restore it. Both keys share a hash tag and
//! therefore one Redis Cluster slot. Every command is bounded by a timeout (`REDIS_TIMEOUT_MS`)
//! and goes through a circuit breaker (`REDIS_BREAKER_*`): a Redis brown-out costs callers the
//! timeout a few times, and after that nothing until a trial call finds Redis back.

use std::sync::Arc;
use std::time::Duration;

use breaker::{Breaker, Guarded};
use chrono::{DateTime, Utc};
use redis::cluster_async::ClusterConnection;
use redis::Script;
use tenancy::{revoked_key, session_key, SessionInfo, INVALIDATION_CHANNEL};

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis did not answer within {0:?}")]
    Timeout(Duration),
    /// Redis failed repeatedly and is not asked for this long.
    #[error("redis failed repeatedly and is not asked for {0:?}")]
    CircuitOpen(Duration),
    #[error("a cached value is unreadable: {0}")]
    Unreadable(#[from] serde_json::Error),
}

/// What [`SessionCache::put`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    Stored,
    /// The session was revoked meanwhile; nothing was written.
    Revoked,
}

const PUT: &str = r"
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1";

const REVOKE: &str = r"
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1";

#[derive(Clone)]
pub struct SessionCache {
    conn: ClusterConnection,
    prefix: String,
    timeout: Duration,
    breaker: Arc<Breaker>,
    put: Script,
    revoke: Script,
}

/// Whether a Redis error means Redis is unavailable (as opposed to refusing one command): what
/// counts against the breaker.
pub fn redis_unavailable(e: &redis::RedisError) -> bool {
    use redis::{ErrorKind, ServerErrorKind};
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || matches!(
            e.kind(),
            ErrorKind::ClusterConnectionNotFound
                | ErrorKind::Server(
                    ServerErrorKind::ClusterDown
                        | ServerErrorKind::MasterDown
                        | ServerErrorKind::TryAgain
                        | ServerErrorKind::BusyLoading
                )
        )
}

impl SessionCache {
    /// `prefix` is `REDIS_KEY_PREFIX`; `timeout` bounds every call, and `breaker` decides
    /// whether Redis is asked at all.
    pub fn new(conn: ClusterConnection, prefix: &str, timeout: Duration, breaker: Breaker) -> Self {
        Self {
            conn,
            prefix: prefix.to_owned(),
            timeout,
            breaker: Arc::new(breaker),
            put: Script::new(PUT),
            revoke: Script::new(REVOKE),
        }
    }

    /// The breaker in front of Redis.
    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// Where logouts are announced.
    pub fn channel(&self) -> String {
        format!("{}{INVALIDATION_CHANNEL}", self.prefix)
    }

    pub(crate) async fn bounded<T>(
        &self,
        fut: impl std::future::Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, CacheError> {
        self.breaker.call(self.timeout, fut, redis_unavailable).await.map_err(|e| match e {
            Guarded::Open(wait) => CacheError::CircuitOpen(wait),
            Guarded::TimedOut(deadline) => CacheError::Timeout(deadline),
            Guarded::Failed(e) => CacheError::Redis(e),
        })
    }

    /// The cached session `sid`, if any. A value for another sid is treated as absent.
    pub async fn get(&self, sid: &str) -> Result<Option<SessionInfo>, CacheError> {
        let session: Option<SessionInfo> = self.get_json(&session_key(&self.prefix, sid)).await?;
        Ok(session.filter(|s| s.sid == sid))
    }

    /// Caches a live session until it expires, unless it has been revoked.
    pub async fn put(&self, session: &SessionInfo) -> Result<Put, CacheError> {
        let ttl_ms = (session.expires_at - Utc::now()).num_milliseconds();
        let (live, tombstone) = (session_key(&self.prefix, &session.sid), revoked_key(&self.prefix, &session.sid));
        self.put_unless_revoked(live, tombstone, session, ttl_ms).await
    }

    /// Revokes `sid` until `until` (the token's expiry): tombstone, delete, announce.
    pub async fn revoke(&self, sid: &str, until: DateTime<Utc>) -> Result<(), CacheError> {
        // at least a minute, so a token within the verifier's leeway is still refused
        let ttl_ms = (until - Utc::now()).num_milliseconds().max(60_000);
        self.revoke_and_announce(session_key(&self.prefix, sid), revoked_key(&self.prefix, sid), ttl_ms, sid).await
    }

    /// The key prefix (`REDIS_KEY_PREFIX`) every key here starts with.
    pub(crate) fn prefix(&self) -> &str {
        &self.prefix
    }

    /// A connection to the cluster (cheap: a handle on the shared one).
    pub(crate) fn connection(&self) -> ClusterConnection {
        self.conn.clone()
    }

    /// A cached JSON value, if any.
    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>, CacheError> {
        let mut conn = self.conn.clone();
        let raw: Option<String> = self.bounded(redis::cmd("GET").arg(key).query_async(&mut conn)).await?;
        Ok(raw.map(|json| serde_json::from_str(&json)).transpose()?)
    }

    /// Caches `value` at `live` for `ttl_ms` (nothing if that is not positive), unless the
    /// `tombstone` exists: one script, so a revocation cannot fall between check and write.
    pub(crate) async fn put_unless_revoked<T: serde::Serialize>(
        &self,
        live: String,
        tombstone: String,
        value: &T,
        ttl_ms: i64,
    ) -> Result<Put, CacheError> {
        if ttl_ms <= 0 {
            return Ok(Put::Stored);
        }
        let value = serde_json::to_string(value)?;
        let mut conn = self.conn.clone();
        let mut call = self.put.prepare_invoke();
        call.key(live).key(tombstone).arg(value).arg(ttl_ms);
        let stored: i64 = self.bounded(call.invoke_async(&mut conn)).await?;
        Ok(if stored == 1 { Put::Stored } else { Put::Revoked })
    }

    /// Sets `tombstone` for `ttl_ms`, deletes `live` and publishes `message` on the
    /// invalidation channel, in one script.
    pub(crate) async fn revoke_and_announce(
        &self,
        live: String,
        tombstone: String,
        ttl_ms: i64,
        message: &str,
    ) -> Result<(), CacheError> {
        let mut conn = self.conn.clone();
        let mut call = self.revoke.prepare_invoke();
        call.key(live).key(tombstone).arg(ttl_ms).arg(self.channel()).arg(message);
        let _: i64 = self.bounded(call.invoke_async(&mut conn)).await?;
        Ok(())
    }

    /// Whether `sid` carries a revocation marker.
    pub async fn is_revoked(&self, sid: &str) -> Result<bool, CacheError> {
        self.exists(&revoked_key(&self.prefix, sid)).await
    }

    pub(crate) async fn exists(&self, key: &str) -> Result<bool, CacheError> {
        let mut conn = self.conn.clone();
        self.bounded(redis::cmd("EXISTS").arg(key).query_async(&mut conn)).await
    }
}
