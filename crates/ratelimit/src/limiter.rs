//! Deciding a stack: one script, one round trip, a bounded wait, and a defined answer when Redis
//! fails. The round trip goes through a circuit breaker per limiter (one Redis deployment): once
//! Redis has failed or stayed silent several times in a row, stacks take their failure mode at
//! once instead of each waiting out its timeout, until a trial call finds Redis back.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use breaker::{Breaker, Guarded};
use metrics::{Counter, Histogram};
use redis::aio::ConnectionLike;
use redis::Script;

use crate::decision::{Admitted, Decision, LevelState, Rejected};
use crate::lease::{Batch, Lease, Leases, Spent};
use crate::limit::{FailureMode, InvalidLimit, StackPolicy};
use crate::local::OverLimitCache;

static SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("stack.lua")));

/// Why a check could not be decided.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Redis failed or was too slow and the stack fails closed.
    #[error("rate limits of {stack:?} cannot be checked: {cause}")]
    Unavailable { stack: String, cause: StoreFailure },
    #[error("stack {stack:?} has no level {level:?}")]
    UnknownLevel { stack: String, level: String },
    /// No amount of waiting admits this cost: it exceeds a level's capacity.
    #[error("a cost of {cost} can never pass level {level:?} of {stack:?}, which holds {capacity}")]
    CostTooHigh { stack: String, level: String, cost: u64, capacity: u64 },
}

/// What went wrong with Redis.
#[derive(Debug, thiserror::Error)]
pub enum StoreFailure {
    #[error("no answer from redis within {0:?}")]
    Timeout(Duration),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("redis answered with an unexpected shape: {0}")]
    Reply(String),
    /// Redis failed repeatedly, so it was not asked; the breaker tries again after this long.
    #[error("redis failed repeatedly and is not asked for {0:?}")]
    CircuitOpen(Duration),
}

/// Decides stacks of limits against one Redis deployment (a single node or a cluster: any
/// async connection of the `redis` crate). Cheap to clone; clones share the connection and the
/// in-process over-limit cache.
#[derive(Clone)]
pub struct Limiter<C> {
    conn: C,
    prefix: Arc<str>,
    local: OverLimitCache,
    leases: Leases,
    breaker: Arc<Breaker>,
}

impl<C> std::fmt::Debug for Limiter<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter").field("prefix", &self.prefix).finish_non_exhaustive()
    }
}

impl<C> Limiter<C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// `prefix` starts every key (tests isolate with it). It may not contain `{` or `}`, which
    /// would move the cluster hash tag.
    pub fn new(conn: C, prefix: &str) -> Result<Self, InvalidLimit> {
        if prefix.contains(['{', '}']) {
            return Err(InvalidLimit::from(format!("key prefix {prefix:?} may not contain braces")));
        }
        Ok(Self {
            conn,
            prefix: prefix.into(),
            local: OverLimitCache::new(100_000),
            leases: Leases::new(100_000),
            breaker: Arc::new(Breaker::new("ratelimit_breaker_open", "redis", breaker::Settings::default())),
        })
    }

    /// Replaces the default breaker settings (5 failures in a row open it for 5 s). Its state
    /// is the gauge `ratelimit_breaker_open{dependency="redis"}`.
    #[must_use]
    pub fn with_breaker(mut self, settings: breaker::Settings) -> Self {
        self.breaker = Arc::new(Breaker::new("ratelimit_breaker_open", "redis", settings));
        self
    }

    /// A check of `policy` with every level's key suffix empty; name the per-caller parts with
    /// [`Stack::key`] (e.g. the handle of a per-handle level).
    pub fn stack<'a>(&'a self, policy: &'a StackPolicy) -> Stack<'a, C> {
        Stack {
            limiter: self,
            policy,
            shard: String::new(),
            keys: vec![String::new(); policy.limits().len()],
            unknown_level: None,
        }
    }

    /// The breaker in front of Redis.
    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    /// The connection, for callers that share it.
    pub fn connection(&self) -> &C {
        &self.conn
    }
}

/// One stack of limits bound to its keys, ready to be checked.
pub struct Stack<'a, C> {
    limiter: &'a Limiter<C>,
    policy: &'a StackPolicy,
    shard: String,
    keys: Vec<String>,
    /// A level named by [`Stack::key`] that the policy does not have, reported by the check.
    unknown_level: Option<String>,
}

impl<'a, C> Stack<'a, C>
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    /// The key of one level, e.g. `.key("handle", "nasa")`: callers with different keys at a
    /// level have separate budgets there. A level name the policy does not have is reported by
    /// the check ([`Error::UnknownLevel`]), so a builder chain stays a chain.
    #[must_use]
    pub fn key(mut self, level: &str, key: &str) -> Self {
        match self.policy.level_index(level) {
            Some(i) => self.keys[i] = key.to_owned(),
            None => self.unknown_level = Some(level.to_owned()),
        }
        self
    }

    /// Spreads independent instances of this stack over cluster slots (e.g. one per partner).
    /// All levels of one check always share a slot, so they can be decided atomically; with no
    /// shard every instance of the stack lives in one slot, which is what a stack with a global
    /// level needs anyway.
    #[must_use]
    pub fn shard(mut self, shard: &str) -> Self {
        self.shard = shard.to_owned();
        self
    }

    /// The Redis key of each level: `{prefix}rl:{<stack>:<shard>}:<level>:<key>`.
    pub fn redis_keys(&self) -> Vec<String> {
        let tag = format!("{}rl:{{{}:{}}}", self.limiter.prefix, self.policy.name(), self.shard);
        self.policy.limits().iter().zip(&self.keys).map(|(l, k)| format!("{tag}:{}:{k}", l.name())).collect()
    }

    /// What names this stack's lease in process: the policy, the shard and every level's key,
    /// in one buffer (the Redis keys are only formatted when Redis is asked).
    fn lease_key(&self) -> String {
        let len = self.policy.name().len() + self.shard.len() + self.keys.iter().map(|k| k.len() + 1).sum::<usize>();
        let mut key = String::with_capacity(len + 1);
        key.push_str(self.policy.name());
        key.push('\n');
        key.push_str(&self.shard);
        for k in &self.keys {
            key.push('\n');
            key.push_str(k);
        }
        key
    }

    /// Takes `cost` units from every level if all of them have it, else nothing.
    pub async fn check(&self, cost: u64) -> Result<Decision, Error> {
        let units = self.policy.lease_units();
        if units > 1 && cost == 1 {
            // one unit, from this process's lease of these keys (see [`crate::lease`]); spending
            // it is the hot path and stays small: what waits on Redis is built, boxed, only when
            // the lease is spent
            self.validate(1)?;
            let lease = self.limiter.leases.of(&self.lease_key());
            if let Some(admitted) = self.spend(&lease, units) {
                return Ok(admitted);
            }
            return Box::pin(self.take_lease(lease, units)).await;
        }
        Box::pin(self.decide(cost, None)).await
    }

    /// No unit is left in process: wait for a lease already being taken, or take one.
    async fn take_lease(&self, lease: Arc<Lease>, units: u64) -> Result<Decision, Error> {
        let _taking = lease.taking.lock().await;
        if let Some(admitted) = self.spend(&lease, units) {
            return Ok(admitted);
        }
        match self.decide(units, None).await? {
            Decision::Admitted(admitted) if !admitted.degraded => {
                let now = Instant::now();
                let mut held = lease.held();
                held.add(Batch::new(units - 1, now), &admitted.levels, now);
                Ok(Decision::Admitted(admitted))
            }
            degraded @ Decision::Admitted(_) => Ok(degraded),
            // less than a lease is left: decide this unit exactly
            Decision::Rejected(_) => self.decide(1, None).await,
        }
    }

    /// A unit from the lease held in process, if one is left; takes the next lease in the
    /// background when half of this one is spent.
    fn spend(&self, lease: &Arc<Lease>, units: u64) -> Option<Decision> {
        let spent = lease.held().spend(Instant::now(), units);
        let Spent::Unit { levels, prefetch } = spent else { return None };
        metrics_of(self.policy).leased.increment(1);
        if prefetch {
            self.prefetch(lease.clone(), units);
        }
        Some(Decision::Admitted(Admitted { levels, degraded: false }))
    }

    /// Takes the next lease of these keys in a task of its own.
    fn prefetch(&self, lease: Arc<Lease>, units: u64) {
        let (limiter, policy) = (self.limiter.clone(), self.policy.clone());
        let (shard, keys) = (self.shard.clone(), self.keys.clone());
        tokio::spawn(async move {
            let stack = Stack { limiter: &limiter, policy: &policy, shard, keys, unknown_level: None };
            let decided = stack.decide(units, None).await;
            let now = Instant::now();
            let mut held = lease.held();
            match decided {
                Ok(Decision::Admitted(admitted)) if !admitted.degraded => {
                    held.add(Batch::new(units, now), &admitted.levels, now);
                    held.prefetched(false, now);
                }
                // refused, or Redis could not say: checks decide for themselves meanwhile
                _ => held.prefetched(true, now),
            }
        });
    }

    /// Every level's state, charging nothing (a check of cost 0).
    pub async fn peek(&self) -> Result<Decision, Error> {
        self.decide(0, None).await
    }

    fn validate(&self, cost: u64) -> Result<(), Error> {
        let stack = self.policy.name();
        if let Some(level) = &self.unknown_level {
            return Err(Error::UnknownLevel { stack: stack.to_owned(), level: level.clone() });
        }
        match self.policy.limits().iter().find(|l| cost > l.capacity()) {
            Some(l) => Err(Error::CostTooHigh {
                stack: stack.to_owned(),
                level: l.name().to_owned(),
                cost,
                capacity: l.capacity(),
            }),
            None => Ok(()),
        }
    }

    /// `now_us` replaces Redis's clock; only the model test passes it.
    pub(crate) async fn decide(&self, cost: u64, now_us: Option<u64>) -> Result<Decision, Error> {
        self.validate(cost)?;
        let metrics = metrics_of(self.policy);
        let keys = self.redis_keys();
        if self.policy.uses_local_cache() && cost > 0 {
            if let Some((index, retry_after)) = self.limiter.local.lookup(&keys, cost) {
                metrics.rejected_local[index].increment(1);
                let level = self.policy.limits()[index].name().to_owned();
                return Ok(Decision::Rejected(Rejected { level, retry_after, levels: Arc::new([]), local: true }));
            }
        }
        let mut invocation = SCRIPT.prepare_invoke();
        for key in &keys {
            invocation.key(key);
        }
        invocation.arg(cost).arg(now_us.map(|n| n.to_string()).unwrap_or_default());
        for limit in self.policy.limits() {
            let (algorithm, a, b) = limit.script_args();
            invocation.arg(algorithm).arg(a).arg(b);
        }
        let sent = Instant::now();
        let mut conn = self.limiter.conn.clone();
        // every error of this one script is Redis failing (a refused script would be a bug)
        let call = invocation.invoke_async::<Vec<i64>>(&mut conn);
        let answer = match self.limiter.breaker.call(self.policy.timeout(), call, |_| true).await {
            Ok(reply) => self.parse(&reply),
            Err(Guarded::Failed(e)) => Err(StoreFailure::Redis(e)),
            Err(Guarded::TimedOut(deadline)) => Err(StoreFailure::Timeout(deadline)),
            Err(Guarded::Open(wait)) => Err(StoreFailure::CircuitOpen(wait)),
        };
        metrics.latency.record(sent.elapsed().as_secs_f64());
        match answer {
            Ok(Decision::Rejected(r)) => {
                let index = self.policy.level_index(&r.level).unwrap_or_default();
                metrics.rejected[index].increment(1);
                if self.policy.uses_local_cache() && cost > 0 {
                    // Redis decided at or after `sent`, so `sent + retry_after` is never later
                    // than the moment Redis would admit this cost again
                    self.limiter.local.remember(&keys[index], index, sent + r.retry_after, cost);
                }
                Ok(Decision::Rejected(r))
            }
            Ok(admitted) => {
                metrics.admitted.increment(1);
                Ok(admitted)
            }
            Err(cause) => {
                match cause {
                    StoreFailure::Timeout(_) => metrics.timeouts.increment(1),
                    StoreFailure::CircuitOpen(_) => metrics.circuit_open.increment(1),
                    _ => metrics.errors.increment(1),
                }
                match self.policy.failure_mode() {
                    FailureMode::Open => {
                        metrics.failed_open.increment(1);
                        tracing::warn!(stack = self.policy.name(), error = %cause, "rate limits unchecked: failing open");
                        Ok(Decision::Admitted(Admitted { levels: Arc::new([]), degraded: true }))
                    }
                    FailureMode::Closed => {
                        metrics.failed_closed.increment(1);
                        Err(Error::Unavailable { stack: self.policy.name().to_owned(), cause })
                    }
                }
            }
        }
    }

    fn parse(&self, reply: &[i64]) -> Result<Decision, StoreFailure> {
        let limits = self.policy.limits();
        if reply.len() != 2 + 2 * limits.len() {
            return Err(StoreFailure::Reply(format!("{} numbers for {} levels", reply.len(), limits.len())));
        }
        let micros = |v: i64| Duration::from_micros(u64::try_from(v).unwrap_or_default());
        let levels: Arc<[LevelState]> = limits
            .iter()
            .enumerate()
            .map(|(i, l)| {
                LevelState::new(l, u64::try_from(reply[2 + 2 * i]).unwrap_or_default(), micros(reply[3 + 2 * i]))
            })
            .collect();
        let binding = usize::try_from(reply[0]).unwrap_or(usize::MAX);
        Ok(match binding {
            0 => Decision::Admitted(Admitted { levels, degraded: false }),
            i if i <= limits.len() => Decision::Rejected(Rejected {
                level: limits[i - 1].name().to_owned(),
                retry_after: micros(reply[1]),
                levels,
                local: false,
            }),
            other => return Err(StoreFailure::Reply(format!("level {other} of {}", limits.len()))),
        })
    }
}

/// The metric handles of one stack, registered on first use (after the service installed its
/// recorder) and kept in the policy, so a decision formats no labels.
pub(crate) struct StackMetrics {
    admitted: Counter,
    leased: Counter,
    rejected: Vec<Counter>,
    rejected_local: Vec<Counter>,
    failed_open: Counter,
    failed_closed: Counter,
    timeouts: Counter,
    circuit_open: Counter,
    errors: Counter,
    latency: Histogram,
}

impl std::fmt::Debug for StackMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StackMetrics").finish_non_exhaustive()
    }
}

fn metrics_of(policy: &StackPolicy) -> &StackMetrics {
    policy.metrics.get_or_init(|| {
        let stack = policy.name().to_owned();
        let decision = |level: &str, outcome: &'static str| {
            metrics::counter!("ratelimit_decisions_total", "stack" => stack.clone(), "level" => level.to_owned(), "outcome" => outcome)
        };
        let errors =
            |kind: &'static str| metrics::counter!("ratelimit_redis_errors_total", "stack" => stack.clone(), "kind" => kind);
        let levels = policy.limits().iter().map(|l| l.name());
        StackMetrics {
            admitted: decision("", "admitted"),
            leased: decision("", "admitted_leased"),
            rejected: levels.clone().map(|l| decision(l, "rejected")).collect(),
            rejected_local: levels.map(|l| decision(l, "rejected_local")).collect(),
            failed_open: decision("", "failed_open"),
            failed_closed: decision("", "failed_closed"),
            timeouts: errors("timeout"),
            circuit_open: errors("circuit_open"),
            errors: errors("error"),
            latency: metrics::histogram!("ratelimit_check_duration_seconds", "stack" => stack.clone()),
        }
    })
}
