//! The Redis side of API keys, beside sessions and with the same guarantees (see
//! [`crate::sessions`]): `apikey:{<hash>}` holds a live key's [`ApiKeyInfo`], and
//! `apikey-revoked:{<hash>}` is the tombstone a revocation leaves, so a verify that read the key
//! just before it was revoked cannot cache it again. A revocation is announced on the sessions'
//! invalidation channel (`apikey:<hash>`), which every gateway already listens to.

use chrono::Utc;
use tenancy::{api_key_invalidation, api_key_key, api_key_revoked_key, ApiKeyInfo, KeyHash};

use crate::sessions::{CacheError, Put, SessionCache};

/// How long a live key is cached at most: a key without an expiry is still looked up again in
/// Postgres every few minutes, so a suspended partner's keys stop within that bound.
const KEY_CACHE_MAX_MS: i64 = 10 * 60 * 1000;

/// How long a revoked key's tombstone is kept: far longer than any verify can be in flight (the
/// race it guards against), and a revoked key is refused by Postgres forever anyway.
const TOMBSTONE_MS: i64 = 24 * 60 * 60 * 1000;

impl SessionCache {
    /// The cached live key with `hash`, if any. A value cached for another hash is ignored.
    pub async fn get_key(&self, hash: &KeyHash) -> Result<Option<ApiKeyInfo>, CacheError> {
        let info: Option<ApiKeyInfo> = self.get_json(&api_key_key(self.prefix(), hash)).await?;
        Ok(info.filter(|i| hash.matches(&i.key_hash)))
    }

    /// Caches a live key (for ten minutes at most, never past its expiry) unless it was revoked.
    pub async fn put_key(&self, hash: &KeyHash, info: &ApiKeyInfo) -> Result<Put, CacheError> {
        let ttl_ms =
            info.expires_at.map_or(KEY_CACHE_MAX_MS, |at| (at - Utc::now()).num_milliseconds().min(KEY_CACHE_MAX_MS));
        let (live, tombstone) = (api_key_key(self.prefix(), hash), api_key_revoked_key(self.prefix(), hash));
        self.put_unless_revoked(live, tombstone, info, ttl_ms).await
    }

    /// Revokes a key everywhere Redis reaches: tombstone, delete, announce to every gateway.
    pub async fn revoke_key(&self, hash: &KeyHash) -> Result<(), CacheError> {
        let (live, tombstone) = (api_key_key(self.prefix(), hash), api_key_revoked_key(self.prefix(), hash));
        self.revoke_and_announce(live, tombstone, TOMBSTONE_MS, &api_key_invalidation(hash)).await
    }

    /// Whether the key carries a revocation tombstone.
    pub async fn is_key_revoked(&self, hash: &KeyHash) -> Result<bool, CacheError> {
        let tombstone = api_key_revoked_key(self.prefix(), hash);
        self.exists(&tombstone).await
    }
}

/// The sorted set of keys' last use: member the key id, score the unix second. The gateway adds
/// to it in batches; the key list reads it.
fn used_key(prefix: &str) -> String {
    format!("{prefix}apikey-used")
}

impl SessionCache {
    /// Records when keys were last used, in one command (`ZADD GT`: a late batch never moves a
    /// key's last use back).
    pub async fn mark_keys_used(&self, used: &[(i64, i64)]) -> Result<(), CacheError> {
        if used.is_empty() {
            return Ok(());
        }
        let mut cmd = redis::cmd("ZADD");
        cmd.arg(used_key(self.prefix())).arg("GT");
        for (key_id, at) in used {
            cmd.arg(at).arg(key_id);
        }
        let mut conn = self.connection();
        let _: i64 = self.bounded(cmd.query_async(&mut conn)).await?;
        Ok(())
    }

    /// When each key was last used (unix seconds), as far as the gateways have reported.
    pub async fn keys_last_used(&self, key_ids: &[i64]) -> Result<Vec<Option<i64>>, CacheError> {
        if key_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut cmd = redis::cmd("ZMSCORE");
        cmd.arg(used_key(self.prefix())).arg(key_ids);
        let mut conn = self.connection();
        let scores: Vec<Option<f64>> = self.bounded(cmd.query_async(&mut conn)).await?;
        Ok(scores.into_iter().map(|s| s.map(|s| s as i64)).collect())
    }
}
