//! A request's Postgres transaction, begun on first use. Concurrent DAO calls in one handler
//! share it (they queue on the lock: one connection runs one statement at a time).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::future::BoxFuture;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::error::ApiError;

/// Counts of sessions actually opened, for metrics and tests.
#[derive(Debug, Default)]
pub struct SessionStats {
    pub pg_opened: AtomicU64,
    pub ch_opened: AtomicU64,
}

enum State {
    Idle,
    Open(Transaction<'static, Postgres>),
    Finished,
}

pub struct PgSession {
    pool: PgPool,
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
            State::Open(tx) => tx,
            _ => unreachable!("a PgConn only exists for an open transaction"),
        }
    }
}

impl std::ops::DerefMut for PgConn {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match &mut *self.0 {
            State::Open(tx) => tx,
            _ => unreachable!("a PgConn only exists for an open transaction"),
        }
    }
}

impl PgSession {
    pub fn new(pool: PgPool, stats: Arc<SessionStats>) -> Self {
        Self { pool, state: Arc::new(Mutex::new(State::Idle)), stats }
    }

    /// The transaction, begun now if this is the request's first Postgres use.
    pub fn tx(&self) -> BoxFuture<'static, Result<PgConn, ApiError>> {
        let (pool, state, stats) = (self.pool.clone(), self.state.clone(), self.stats.clone());
        Box::pin(async move {
            let mut guard = state.lock_owned().await;
            match &*guard {
                State::Idle => {
                    let tx = pool.begin().await?;
                    stats.pg_opened.fetch_add(1, Ordering::Relaxed);
                    metrics::counter!("coffee_sessions_opened_total", "store" => "postgres").increment(1);
                    *guard = State::Open(tx);
                }
                State::Open(_) => {}
                State::Finished => {
                    return Err(ApiError::Internal(anyhow::anyhow!("postgres session used after commit or rollback")))
                }
            }
            Ok(PgConn(guard))
        })
    }

    /// The pool, for work that must run outside the request's transaction (after-commit hooks).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn is_open(&self) -> bool {
        matches!(*self.state.lock().await, State::Open(_))
    }

    pub async fn commit(&self) -> Result<(), ApiError> {
        let mut state = self.state.lock().await;
        if let State::Open(tx) = std::mem::replace(&mut *state, State::Finished) {
            tx.commit().await?;
        }
        Ok(())
    }

    pub async fn rollback(&self) {
        let mut state = self.state.lock().await;
        if let State::Open(tx) = std::mem::replace(&mut *state, State::Finished) {
            if let Err(e) = tx.rollback().await {
                // the connection is closed instead of returned; nothing was committed
                tracing::warn!(error = %e, "postgres rollback failed");
            }
        }
    }
}
