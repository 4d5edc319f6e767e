//! Is this API key live? The session tiers again ([`super::tiers`]), keyed by the key's hash:
//! memory, then Redis `apikey:{<hash>}`, then coffee's `POST /identity/api-keys/verify`. The
//! key itself is hashed once per request and never kept: memory and Redis hold its SHA-256.
//! A revocation announced on the invalidation channel (`apikey:<hash>`) drops it here at once.
//!
//! A key's last use is reported without a write per request: each request notes its key in
//! process, and [`KeyTiers::report_use`] sends what was noted to Redis in one command every few
//! seconds (and once more at shutdown), where coffee's key list reads it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use store::sessions::SessionCache;
use tenancy::{ApiKey, ApiKeyInfo, KeyHash, KeyScope, KeyVerdict};

use super::tiers::{Fresh, Memory, MemorySettings, Sizing, Tier};
use crate::error::{AuthFailure, GatewayError};
use crate::upstream::identity::IdentityClient;

/// What the gateway keeps of a live key.
#[derive(Debug)]
pub struct CachedKey {
    pub key_id: i64,
    pub partner_id: i64,
    pub user_id: Option<i64>,
    pub client_id: Box<str>,
    pub name: Box<str>,
    pub scope: KeyScope,
    pub expires_at: Option<DateTime<Utc>>,
    /// The whole hash: memory is keyed by its first half, so a hit is confirmed against it.
    hash: KeyHash,
}

impl CachedKey {
    fn from_info(info: ApiKeyInfo, hash: KeyHash) -> Self {
        Self {
            key_id: info.key_id,
            partner_id: info.partner_id,
            user_id: info.user_id,
            client_id: info.client_id.into_boxed_str(),
            name: info.name.into_boxed_str(),
            scope: info.scope,
            expires_at: info.expires_at,
            hash,
        }
    }
}

/// Why coffee refused a key, as the edge says it.
fn refusal(verdict: &KeyVerdict) -> AuthFailure {
    match verdict {
        KeyVerdict::Malformed => AuthFailure::KeyMalformed,
        KeyVerdict::Mistyped => AuthFailure::KeyMistyped,
        KeyVerdict::Unknown | KeyVerdict::Live(_) => AuthFailure::KeyUnknown,
        KeyVerdict::Revoked => AuthFailure::KeyRevoked,
        KeyVerdict::Expired => AuthFailure::KeyExpired,
        KeyVerdict::PartnerInactive => AuthFailure::KeyPartnerInactive,
    }
}

pub struct KeyTiers {
    memory: Memory<CachedKey>,
    redis: SessionCache,
    identity: IdentityClient,
    /// Keys used since the last report: key id → unix second of the latest use.
    used: Mutex<HashMap<i64, i64>>,
}

impl KeyTiers {
    pub fn new(redis: SessionCache, identity: IdentityClient, sizing: Sizing, hooks: platform::hooks::Hooks) -> Self {
        let settings = MemorySettings {
            sizing,
            refusal: AuthFailure::KeyRevoked,
            metric: "gateway_api_key_lookups_total",
            loaded_pause: "gateway.api_key.loaded",
        };
        Self { memory: Memory::new(settings, hooks), redis, identity, used: Mutex::new(HashMap::new()) }
    }

    /// The live key, and the tier that knew. Its use is noted for the next report. `gate` runs
    /// only when memory cannot answer, before Redis and coffee are asked (the edge refuses
    /// there an IP that keeps presenting refused keys); a memory hit costs nothing more.
    pub async fn resolve<G, F>(&self, key: &ApiKey, gate: G) -> Result<(Arc<Fresh<CachedKey>>, Tier), GatewayError>
    where
        G: Fn() -> F,
        F: std::future::Future<Output = Result<(), GatewayError>>,
    {
        let hash = key.hash();
        let short = hash.short();
        let load = || async {
            gate().await?;
            self.load(hash, key).await
        };
        let (found, tier) = self.memory.resolve(short, load).await?;
        if found.hash != hash {
            // two keys sharing 128 bits of SHA-256: never seen, but never served either
            return Err(GatewayError::Unauthorized(AuthFailure::KeyUnknown));
        }
        if found.expires_at.is_some_and(|at| at <= Utc::now()) {
            self.memory.invalidate(short).await;
            return Err(GatewayError::Unauthorized(AuthFailure::KeyExpired));
        }
        self.memory.count(tier);
        let now = Utc::now().timestamp();
        self.used.lock().expect("key use lock").insert(found.key_id, now);
        Ok((found, tier))
    }

    async fn load(&self, hash: KeyHash, key: &ApiKey) -> Result<(CachedKey, Tier), GatewayError> {
        match self.redis.get_key(&hash).await {
            Ok(Some(info)) => return Ok((CachedKey::from_info(info, hash), Tier::Redis)),
            Ok(None) => {}
            // Redis being down or slow must not refuse every key: coffee still knows
            Err(e) => {
                metrics::counter!("gateway_api_key_redis_errors_total").increment(1);
                tracing::warn!(error = %e, "redis API key lookup failed; asking identity");
            }
        }
        match self.identity.verify_key(key).await? {
            KeyVerdict::Live(info) if hash.matches(&info.key_hash) => {
                Ok((CachedKey::from_info(info, hash), Tier::Identity))
            }
            other => Err(GatewayError::Unauthorized(refusal(&other))),
        }
    }

    /// A revocation was announced: refuse the key from now on, in this process.
    pub async fn forget(&self, hash: &KeyHash) {
        self.memory.forget(hash.short()).await;
    }

    /// Drops every cached key (after missing announcements while reconnecting).
    pub fn forget_all(&self) {
        self.memory.forget_all();
    }

    /// Whether this process has heard that the key was revoked (tests).
    pub fn is_revoked_here(&self, key: &ApiKey) -> bool {
        self.memory.is_revoked_here(key.hash().short())
    }

    /// Inserts a key into the in-process tier directly (benchmarks fill it this way).
    pub async fn remember(&self, key: &ApiKey, info: ApiKeyInfo) {
        let hash = key.hash();
        self.memory.insert(hash.short(), CachedKey::from_info(info, hash)).await;
    }

    /// Lets the in-process tier finish its pending bookkeeping (benchmarks, before measuring).
    pub async fn run_pending_tasks(&self) {
        self.memory.run_pending_tasks().await;
    }

    /// Sends the uses noted since the last report to Redis, in one command. On failure they are
    /// kept for the next report (a newer use of the same key replaces them).
    pub async fn report_use(&self) {
        let batch: Vec<(i64, i64)> =
            std::mem::take(&mut *self.used.lock().expect("key use lock")).into_iter().collect();
        if batch.is_empty() {
            return;
        }
        if let Err(e) = self.redis.mark_keys_used(&batch).await {
            tracing::warn!(error = %e, keys = batch.len(), "could not report API key use; keeping it for the next report");
            let mut used = self.used.lock().expect("key use lock");
            for (id, at) in batch {
                let seen = used.entry(id).or_insert(at);
                *seen = (*seen).max(at);
            }
        }
    }

    /// Reports use every `every` until `stop` is cancelled, then once more.
    pub fn spawn_reporter(self: Arc<Self>, every: Duration, stop: tokio_util::sync::CancellationToken) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    _ = tick.tick() => self.report_use().await,
                }
            }
            self.report_use().await;
        });
    }
}
