//! Stacked rate limits over Redis, decided atomically in one round trip.
//!
//! A caller often needs several limits at once: a paid API's daily budget, a per-minute cap
//! that keeps the provider from banning us, and one refresh per second per creator. Checking
//! them one after another (three round trips) charges the outer budgets for requests that an
//! inner level then rejects, and races between the check and the charge under concurrency. Here
//! one Lua script evaluates every level and charges all of them only when all admit; a
//! rejection charges nothing. Time is Redis's `TIME`, never the callers' clocks, and each level
//! keeps constant-size state: GCRA one timestamp, a calendar window one counter.
//!
//! Why hand-written: `governor` decides in one process only; `redis-cell` is a Redis module
//! (no Debian package, one key per call); general gateways (Envoy's ratelimit service) charge
//! every descriptor even when another one rejects. None decides a stack atomically over Redis.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use ratelimit::{Decision, Limiter, StackPolicy};
//!
//! // from configuration, validated at start-up
//! let refresh = StackPolicy::parse("refresh_profile", "daily=20000/1day;calendar,minute=60/1m,handle=1/1s")?;
//! let conn = redis::Client::open("redis://127.0.0.1:6379")?.get_connection_manager().await?;
//! let limiter = Limiter::new(conn, "beat:")?;
//!
//! match limiter.stack(&refresh).key("handle", "nasa").check(1).await? {
//!     Decision::Admitted(_) => { /* call the provider */ }
//!     Decision::Rejected(r) => println!("{} is exhausted; retry in {:?}", r.level, r.retry_after),
//! }
//! # Ok(()) }
//! ```
//!
//! On a Redis Cluster pass a [`SlotRouted`] (a `ClusterConnection` that sends each decision
//! straight to its slot's master) or a plain `ClusterConnection`: the keys of one check share a
//! hash tag (`{stack:shard}`), so they live in one slot and one script can touch them all.
//!
//! Layout: [`limit`] (what a limit and a stack are, validated config), `stack.lua` (the
//! decision), [`limiter`] (the round trip, its timeout and the failure modes), `local` (the
//! in-process over-limit cache), [`lease`] (units taken in bulk and spent in process), [`decision`] (the answer and its HTTP headers), [`cluster`] (decisions sent straight to
//! their slot's master).
//!
//! Metrics: `ratelimit_decisions_total{stack,level,outcome}` (outcome `admitted`, `rejected`,
//! `rejected_local`, `failed_open`, `failed_closed`, `admitted_leased`), `ratelimit_redis_errors_total{stack,kind}` (kind `timeout`, `error`, `circuit_open`), `ratelimit_breaker_open{dependency}`
//! and `ratelimit_check_duration_seconds{stack}`.

pub mod cluster;
pub mod decision;
pub mod lease;
pub mod limit;
pub mod limiter;
mod local;
#[cfg(test)]
mod model;

pub use cluster::SlotRouted;
pub use decision::{Admitted, Decision, LevelState, RateLimitHeaders, Rejected};
pub use limit::{Algorithm, FailureMode, InvalidLimit, Limit, StackPolicy};
pub use limiter::{Error, Limiter, Stack, StoreFailure};
