//! The in-process tier both credentials share (sessions and API keys): a moka cache of what
//! the tiers below answered, with the guarantees a revocation needs.
//!
//! - Concurrent misses for one credential share a single load (moka's `try_get_with`).
//! - A load can race with a revocation: the announcement may arrive while the load is in flight,
//!   and moka would then insert the stale value after the invalidation ran. So revocations also
//!   go into a short-lived revoked set (kept for the in-process TTL plus the request timeout),
//!   checked before and after every resolution: a revocation that arrives during a load wins,
//!   and the loaded value is dropped.
//! - A copy older than the TTL is dropped when read and loaded again (no per-entry expiry queue:
//!   it would cost memory for each of a million entries); capacity evicts the rest.
//!
//! Entries are keyed by 128 bits (a session id's UUID, the first half of a key's SHA-256) and
//! hold a shared [`Fresh`] value, so a hit copies a pointer.

use std::future::Future;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use crate::error::{AuthFailure, GatewayError};

type Hasher = foldhash::fast::RandomState;

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

/// A cached value and when it is too old to serve.
#[derive(Debug, PartialEq, Eq)]
pub struct Fresh<V> {
    value: V,
    /// `ttl` after it was cached, in seconds on [`clock`]: checked on read.
    stale_at: u32,
}

impl<V> Fresh<V> {
    fn new(value: V, ttl: Duration) -> Self {
        // whole seconds: served for at most `ttl` plus one second
        let ttl = u32::try_from(ttl.as_secs()).unwrap_or(u32::MAX);
        Self { value, stale_at: clock().saturating_add(ttl).saturating_add(1) }
    }

    fn is_stale(&self) -> bool {
        clock() >= self.stale_at
    }
}

impl<V> Deref for Fresh<V> {
    type Target = V;
    fn deref(&self) -> &V {
        &self.value
    }
}

/// Whole seconds since the tier's clock started (the process's first use).
fn clock() -> u32 {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    u32::try_from(START.get_or_init(std::time::Instant::now).elapsed().as_secs()).unwrap_or(u32::MAX)
}

/// The in-process tier of one kind of credential.
pub struct Memory<V> {
    cache: moka::future::Cache<u128, Arc<Fresh<V>>, Hasher>,
    /// Credentials (as keyed here) whose revocation this process has heard of.
    revoked: moka::sync::Cache<u128, (), Hasher>,
    ttl: Duration,
    /// How a revoked credential is refused.
    refusal: AuthFailure,
    /// `<metric>{tier=…}`, counted on every resolution.
    lookups: [metrics::Counter; 3],
    hooks: platform::hooks::Hooks,
    /// The pause point between a load and its insertion (tests).
    loaded: &'static str,
}

/// How long and how much the in-process tier holds: the same for sessions and keys.
#[derive(Debug, Clone, Copy)]
pub struct Sizing {
    pub ttl: Duration,
    pub capacity: u64,
    /// How long a heard revocation is remembered (the TTL plus the request timeout).
    pub revoked_for: Duration,
}

/// How a [`Memory`] is set up.
pub struct MemorySettings {
    pub sizing: Sizing,
    pub refusal: AuthFailure,
    /// The lookups counter's name (labelled by tier).
    pub metric: &'static str,
    pub loaded_pause: &'static str,
}

impl<V: Send + Sync + 'static> Memory<V> {
    pub fn new(settings: MemorySettings, hooks: platform::hooks::Hooks) -> Self {
        let MemorySettings { sizing: Sizing { ttl, capacity, revoked_for }, refusal, metric, loaded_pause } = settings;
        Self {
            cache: moka::future::Cache::builder().max_capacity(capacity).build_with_hasher(Hasher::default()),
            revoked: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(revoked_for)
                .build_with_hasher(Hasher::default()),
            ttl,
            refusal,
            lookups: [Tier::Memory, Tier::Redis, Tier::Identity]
                .map(|t| metrics::counter!(metric, "tier" => t.label())),
            hooks,
            loaded: loaded_pause,
        }
    }

    /// The value of `key`: from memory, or loaded by `load` from the tiers below (one load per
    /// key at a time), unless a revocation of it has been heard; and which tier answered.
    pub async fn resolve<L, F>(&self, key: u128, load: L) -> Result<(Arc<Fresh<V>>, Tier), GatewayError>
    where
        L: Fn() -> F,
        F: Future<Output = Result<(V, Tier), GatewayError>>,
    {
        if self.revoked.contains_key(&key) {
            return Err(GatewayError::Unauthorized(self.refusal));
        }
        let mut found = self.lookup(key, &load).await?;
        if found.0.is_stale() {
            // cached too long ago: ask the tiers below again
            self.cache.invalidate(&key).await;
            found = self.lookup(key, &load).await?;
        }
        if self.revoked.contains_key(&key) {
            // the revocation arrived while this value was being loaded: it wins
            self.cache.invalidate(&key).await;
            metrics::counter!("gateway_session_fenced_loads_total").increment(1);
            return Err(GatewayError::Unauthorized(self.refusal));
        }
        Ok(found)
    }

    /// Counts a resolution that was accepted, by the tier that answered.
    pub fn count(&self, tier: Tier) {
        self.lookups[tier as usize].increment(1);
    }

    async fn lookup<L, F>(&self, key: u128, load: &L) -> Result<(Arc<Fresh<V>>, Tier), GatewayError>
    where
        L: Fn() -> F,
        F: Future<Output = Result<(V, Tier), GatewayError>>,
    {
        // a hit stays small: the load (Redis and identity calls, whole futures) is built, boxed,
        // only on a miss
        if let Some(value) = self.cache.get(&key).await {
            return Ok((value, Tier::Memory));
        }
        Box::pin(self.load_into_memory(key, load)).await
    }

    async fn load_into_memory<L, F>(&self, key: u128, load: &L) -> Result<(Arc<Fresh<V>>, Tier), GatewayError>
    where
        L: Fn() -> F,
        F: Future<Output = Result<(V, Tier), GatewayError>>,
    {
        let mut tier = Tier::Memory;
        let value = self
            .cache
            .try_get_with(key, async {
                let (value, from) = load().await?;
                tier = from;
                self.hooks.pause(self.loaded).await;
                Ok::<_, GatewayError>(Arc::new(Fresh::new(value, self.ttl)))
            })
            .await
            .map_err(|e: Arc<GatewayError>| match &*e {
                GatewayError::Unauthorized(why) => GatewayError::Unauthorized(*why),
                GatewayError::PaymentRequired(why) => GatewayError::PaymentRequired(why.clone()),
                GatewayError::RateLimited(rejected) => GatewayError::RateLimited(rejected.clone()),
                GatewayError::Unavailable { what, retry_after } => {
                    GatewayError::Unavailable { what, retry_after: *retry_after }
                }
                GatewayError::UpstreamTimeout(what) => GatewayError::UpstreamTimeout(what),
                GatewayError::Upstream { what, cause } => GatewayError::Upstream { what, cause: cause.clone() },
                other => GatewayError::Upstream { what: "identity", cause: other.to_string() },
            })?;
        Ok((value, tier))
    }

    /// Whether `key` is held and fresh (no load, no revocation check).
    pub async fn holds(&self, key: u128) -> bool {
        self.cache.get(&key).await.is_some_and(|v| !v.is_stale())
    }

    /// Drops `key` (its value turned out unusable, e.g. expired).
    pub async fn invalidate(&self, key: u128) {
        self.cache.invalidate(&key).await;
    }

    /// A revocation was announced: refuse `key` from now on, in this process.
    pub async fn forget(&self, key: u128) {
        self.revoked.insert(key, ());
        self.cache.invalidate(&key).await;
    }

    /// Drops every cached value (after missing announcements while reconnecting).
    pub fn forget_all(&self) {
        self.cache.invalidate_all();
    }

    /// Whether this process has heard that `key` was revoked.
    pub fn is_revoked_here(&self, key: u128) -> bool {
        self.revoked.contains_key(&key)
    }

    /// Values held (approximate; for metrics and benchmarks).
    pub fn cached(&self) -> u64 {
        self.cache.entry_count()
    }

    /// Lets the tier finish its pending bookkeeping (benchmarks, before measuring).
    pub async fn run_pending_tasks(&self) {
        self.cache.run_pending_tasks().await;
    }

    /// Inserts a value directly (benchmarks fill the tier this way).
    pub async fn insert(&self, key: u128, value: V) {
        self.cache.insert(key, Arc::new(Fresh::new(value, self.ttl))).await;
    }
}
