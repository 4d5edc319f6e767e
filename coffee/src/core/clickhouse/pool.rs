//! A hard cap on ClickHouse work in flight (`CH_MAX_OPEN_CONN`).
//!
//! The clickhouse crate talks HTTP through hyper, whose pool only bounds idle keep-alive
//! connections: under load it opens as many connections as there are concurrent queries. The
//! pool here gives each request's ClickHouse session a slot for its whole life, as a Postgres
//! session holds its connection: at most `CH_MAX_OPEN_CONN` requests use ClickHouse at once,
//! the rest wait up to [`ACQUIRE_TIMEOUT`] and are then answered 503.
//!
//! The pool also guards every statement ([`ChPool::guarded`]): a deadline (`CH_QUERY_TIMEOUT_MS`),
//! because a frozen server never answers and `max_execution_time` is enforced by the server
//! itself; and a circuit breaker, so once ClickHouse has failed repeatedly analytics answer 503
//! at once instead of each request waiting out the deadline.

use std::sync::Arc;
use std::time::Duration;

use breaker::Breaker;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::core::error::{StoreError, StoreFailure};

/// How long a request waits for a free slot, as the Postgres pool's acquire timeout.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct ChPool {
    client: clickhouse::Client,
    slots: Arc<Semaphore>,
    size: usize,
    acquire_timeout: Duration,
    query_timeout: Duration,
    breaker: Breaker,
}

/// A slot of the pool and the client to use while holding it.
pub struct ChLease {
    pub client: clickhouse::Client,
    _slot: OwnedSemaphorePermit,
}

impl ChPool {
    pub fn new(client: clickhouse::Client, max_open: u32) -> Self {
        let size = max_open.max(1) as usize;
        Self {
            client,
            slots: Arc::new(Semaphore::new(size)),
            size,
            acquire_timeout: ACQUIRE_TIMEOUT,
            query_timeout: Duration::from_secs(10),
            breaker: Breaker::new("coffee_breaker_open", "clickhouse", breaker::Settings::default()),
        }
    }

    /// Sets the per-statement deadline and the breaker (see the module docs).
    pub fn with_guard(mut self, query_timeout: Duration, breaker: Breaker) -> Self {
        self.query_timeout = query_timeout;
        self.breaker = breaker;
        self
    }

    /// Runs one ClickHouse statement under the deadline and the breaker. Only an unreachable or
    /// silent ClickHouse counts against the breaker; a refused query or an empty result does not.
    pub async fn guarded<T, E: StoreFailure>(
        &self,
        statement: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        self.breaker
            .call(self.query_timeout, statement, E::is_outage)
            .await
            .map_err(|e| crate::core::error::guarded("the analytics store", e))
    }

    /// Overrides [`ACQUIRE_TIMEOUT`].
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// The client, for work outside requests (readiness checks).
    /// The breaker analytics statements run behind.
    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    pub fn client(&self) -> &clickhouse::Client {
        &self.client
    }

    /// Takes a slot, waiting up to the acquire timeout.
    pub async fn acquire(&self) -> Result<ChLease, StoreError> {
        let slot = tokio::time::timeout(self.acquire_timeout, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| StoreError::Unavailable {
                store: "the analytics store",
                reason: format!(
                    "all {} ClickHouse connections stayed busy for {} ms; retry shortly",
                    self.size,
                    self.acquire_timeout.as_millis()
                ),
            })?
            .expect("the semaphore is never closed");
        Ok(ChLease { client: self.client.clone(), _slot: slot })
    }

    /// Slots held right now.
    pub fn in_use(&self) -> usize {
        self.size - self.slots.available_permits()
    }

    pub fn size(&self) -> usize {
        self.size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // the client is never contacted: slots are handed out before any query
    fn pool(size: u32) -> ChPool {
        ChPool::new(clickhouse::Client::default(), size).with_acquire_timeout(Duration::from_millis(100))
    }

    #[tokio::test]
    async fn at_most_max_open_leases_exist_and_a_freed_slot_is_reused() {
        let pool = Arc::new(pool(2));
        let (a, _b) = (pool.acquire().await.unwrap(), pool.acquire().await.unwrap());
        assert_eq!(pool.in_use(), 2);
        let waiting = tokio::spawn({
            let pool = pool.clone();
            async move { pool.acquire().await.map(|_| ()) }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "a third lease waits while two are held");
        drop(a);
        waiting.await.unwrap().expect("the freed slot is handed to the waiter");
        assert_eq!(pool.in_use(), 1, "the waiter's lease was dropped with its task");
    }

    #[tokio::test]
    async fn a_request_that_cannot_get_a_slot_in_time_is_a_503() {
        let pool = pool(1);
        let _held = pool.acquire().await.unwrap();
        let err = pool.acquire().await.err().expect("no slot");
        let response = axum::response::IntoResponse::into_response(crate::error::ApiError::from(err));
        assert_eq!(response.status(), axum::http::StatusCode::SERVICE_UNAVAILABLE);
    }
}
