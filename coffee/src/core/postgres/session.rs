//! A request's Postgres session, opened on first use. Reads before the request's first write
//! run on a plain pooled connection (no `BEGIN`/`COMMIT` round trips for read-only requests);
//! the first write, or locking read, begins the transaction, and every later statement of the
//! request runs inside it. Under Postgres's default READ COMMITTED isolation each statement
//! takes its own snapshot either way, so reads before the transaction see exactly what they
//! would inside it. Concurrent DAO calls in one handler share the session (they queue on its
//! lock: one connection runs one statement at a time).
//!
//! Every Postgres call of a request runs in [`PgSession::guarded`] (the DAOs and repositories
//! call it through `RequestContext::timed`): taking the connection and running the statement
//! end at `PG_QUERY_TIMEOUT_MS` and count against the database's breaker, so a silent or
//! unreachable Postgres is a prompt 503 naming the database, and after `PG_BREAKER_FAILURES`
//! of those an immediate one. A rollback is bounded by the same deadline (a silent server
//! cannot hold the answer back); a commit is not, since its outcome would be unknown: it ends
//! at the request's `SERVER_TIMEOUT` with a 504.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, Postgres, Transaction};
use store::pg::GuardedPool;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::core::error::{StoreError, StoreFailure};

/// Counts of sessions actually opened, for metrics and tests.
#[derive(Debug, Default)]
pub struct SessionStats {
    pub pg_opened: AtomicU64,
    pub ch_opened: AtomicU64,
}

enum State {
    Idle,
    Reading(PoolConnection<Postgres>),
    /// Was reading; the connection went back to the pool while the request waits elsewhere.
    Released,
    Open(Transaction<'static, Postgres>),
    Finished,
}

pub struct PgSession {
    pool: GuardedPool,
    state: Arc<Mutex<State>>,
    stats: Arc<SessionStats>,
}

/// Exclusive use of the request's transaction; derefs to the connection, so it is used as
/// `&mut *conn` wherever sqlx wants an executor.
pub struct PgConn(OwnedMutexGuard<State>);

impl std::ops::Deref for PgConn {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        match &*self.0 {
            State::Reading(conn) => conn,
            State::Open(tx) => tx,
            _ => unreachable!("a PgConn only exists for an open session"),
        }
    }
}

impl std::ops::DerefMut for PgConn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match &mut *self.0 {
            State::Reading(conn) => conn,
            State::Open(tx) => tx,
            _ => unreachable!("a PgConn only exists for an open session"),
        }
    }
}

impl PgSession {
    pub fn new(pool: GuardedPool, stats: Arc<SessionStats>) -> Self {
        Self { pool, state: Arc::new(Mutex::new(State::Idle)), stats }
    }

    /// A connection for reads: the transaction if one is open, else a plain pooled connection
    /// (acquired now if this is the request's first Postgres use).
    pub fn read(&self) -> BoxFuture<'static, Result<PgConn, StoreError>> {
        self.acquire(false)
    }

    /// The transaction, begun now if none is open yet (a reading connection is handed back).
    pub fn tx(&self) -> BoxFuture<'static, Result<PgConn, StoreError>> {
        self.acquire(true)
    }

    fn acquire(&self, write: bool) -> BoxFuture<'static, Result<PgConn, StoreError>> {
        let (pool, state, stats) = (self.pool.clone(), self.state.clone(), self.stats.clone());
        Box::pin(async move {
            let mut guard = state.lock_owned().await;
            let first_use = matches!(*guard, State::Idle);
            match (&*guard, write) {
                (State::Finished, _) => {
                    return Err(StoreError::Misuse("postgres session used after commit or rollback"))
                }
                (State::Open(_), _) | (State::Reading(_), false) => {}
                (State::Idle | State::Released, false) => *guard = State::Reading(pool.acquire().await?),
                (State::Idle | State::Released | State::Reading(_), true) => {
                    // hand the reading connection back before taking the transaction's
                    *guard = State::Idle;
                    *guard = State::Open(pool.begin().await?);
                }
            }
            if first_use {
                stats.pg_opened.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("coffee_sessions_opened_total", "store" => "postgres").increment(1);
            }
            Ok(PgConn(guard))
        })
    }

    /// Runs one Postgres call of the request (taking the connection included) under the
    /// deadline and the database's breaker; see the module docs.
    pub async fn guarded<T, E: StoreFailure>(
        &self,
        call: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        self.pool
            .breaker()
            .call(self.pool.deadline(), call, E::is_outage)
            .await
            .map_err(|e| crate::core::error::guarded("the database", e))
    }

    /// Hands a reading connection back to the pool, for a request about to wait on something
    /// else (the next read takes one again). A transaction stays open.
    pub async fn release_reader(&self) {
        let mut state = self.state.lock().await;
        if matches!(*state, State::Reading(_)) {
            *state = State::Released;
        }
    }

    /// The pool, for work that must run outside the request's transaction (after-commit hooks).
    pub fn pool(&self) -> &sqlx::PgPool {
        self.pool.pool()
    }

    /// Whether the request has used Postgres (reading or in a transaction).
    pub async fn is_open(&self) -> bool {
        matches!(*self.state.lock().await, State::Reading(_) | State::Released | State::Open(_))
    }

    /// Whether a transaction is open (the request has written).
    pub async fn in_transaction(&self) -> bool {
        matches!(*self.state.lock().await, State::Open(_))
    }

    pub async fn commit(&self) -> Result<(), StoreError> {
        let mut state = self.state.lock().await;
        if let State::Open(tx) = std::mem::replace(&mut *state, State::Finished) {
            tx.commit().await?;
        }
        Ok(())
    }

    pub async fn rollback(&self) {
        let mut state = self.state.lock().await;
        if let State::Open(tx) = std::mem::replace(&mut *state, State::Finished) {
            match tokio::time::timeout(self.pool.deadline(), tx.rollback()).await {
                Ok(Ok(())) => {}
                // the connection is closed instead of returned; nothing was committed
                Ok(Err(e)) => tracing::warn!(error = %e, "postgres rollback failed"),
                // dropped with the ROLLBACK queued: sqlx sends it before the connection is
                // used again, or closes the connection, which ends the transaction too
                Err(_) => tracing::warn!("postgres rollback unanswered within the deadline; the connection is dropped"),
            }
        }
    }
}
