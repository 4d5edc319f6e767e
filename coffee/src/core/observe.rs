//! Per-store query metrics and logs: every DAO statement is counted and timed
//! (`coffee_store_queries_total`, `coffee_store_query_duration_seconds`, labelled by store and
//! operation), logged at debug with its duration, and at warn above `SLOW_QUERY_MS`. Pool usage
//! is sampled into gauges (`coffee_pool_connections`).

use std::future::Future;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Postgres,
    ClickHouse,
}

impl Store {
    fn label(self) -> &'static str {
        match self {
            Store::Postgres => "postgres",
            Store::ClickHouse => "clickhouse",
        }
    }
}

/// Runs one store operation, recording its count, latency and outcome.
pub async fn query<T, E>(
    store: Store,
    op: &'static str,
    slow: Duration,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, E> {
    let started = Instant::now();
    let result = fut.await;
    let elapsed = started.elapsed();
    let outcome = if result.is_ok() { "ok" } else { "error" };
    let labels = [("store", store.label()), ("op", op), ("outcome", outcome)];
    metrics::counter!("coffee_store_queries_total", &labels).increment(1);
    metrics::histogram!("coffee_store_query_duration_seconds", &labels).record(elapsed.as_secs_f64());
    if elapsed >= slow {
        tracing::warn!(store = store.label(), op, elapsed_ms = elapsed.as_millis() as u64, outcome, "slow query");
    } else {
        tracing::debug!(store = store.label(), op, elapsed_us = elapsed.as_micros() as u64, outcome, "query");
    }
    result
}

/// Samples the Postgres pool and the ClickHouse slots into gauges every 5 s for as long as the
/// Postgres pool lives.
pub fn sample_pools(pool: sqlx::PgPool, ch: std::sync::Arc<crate::core::clickhouse::ChPool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        while !pool.is_closed() {
            tick.tick().await;
            let (size, idle) = (pool.size() as f64, pool.num_idle() as f64);
            metrics::gauge!("coffee_pool_connections", "store" => "postgres", "state" => "open").set(size);
            metrics::gauge!("coffee_pool_connections", "store" => "postgres", "state" => "idle").set(idle);
            metrics::gauge!("coffee_pool_connections", "store" => "postgres", "state" => "in_use").set(size - idle);
            metrics::gauge!("coffee_pool_connections", "store" => "clickhouse", "state" => "max").set(ch.size() as f64);
            metrics::gauge!("coffee_pool_connections", "store" => "clickhouse", "state" => "in_use")
                .set(ch.in_use() as f64);
        }
    });
}
