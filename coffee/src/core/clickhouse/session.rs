//! A request's ClickHouse session.
//!
//! ClickHouse has no transactions, so this session defines them for coffee: reads go to the
//! server at once; writes are buffered and only sent by [`ChSession::commit`], after Postgres
//! committed; [`ChSession::rollback`] drops them. A request that fails or times out therefore
//! writes nothing to ClickHouse. (If the server rejects a write during commit, the earlier
//! buffered writes of that request may already be stored: the tables are ReplacingMergeTree
//! keyed on their natural key, so a retry converges instead of duplicating.) Every write runs
//! under the pool's deadline and breaker ([`ChPool::guarded`]), as reads do.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::sync::OnceCell;

use super::pool::{ChLease, ChPool};
use crate::core::dao::Value;
use crate::core::error::StoreError;
use crate::core::postgres::session::SessionStats;

/// A statement to run at commit, with its bound values.
#[derive(Debug, Clone)]
pub struct PendingWrite {
    pub sql: String,
    pub binds: Vec<Value>,
}

pub struct ChSession {
    pool: Arc<ChPool>,
    lease: OnceCell<ChLease>,
    pending: std::sync::Mutex<Vec<PendingWrite>>,
    stats: Arc<SessionStats>,
}

/// Binds a value into a ClickHouse query (the client escapes it).
pub fn bind(query: clickhouse::query::Query, value: &Value) -> clickhouse::query::Query {
    match value {
        Value::Int(v) => query.bind(*v),
        Value::Float(v) => query.bind(*v),
        Value::Text(v) => query.bind(v.as_str()),
        Value::Bool(v) => query.bind(u8::from(*v)),
        Value::Date(v) => query.bind(v.to_string()),
        Value::Json(v) => query.bind(v.to_string()),
        Value::IntList(v) => query.bind(v.as_slice()),
        Value::TextList(v) => query.bind(v.as_slice()),
        Value::Null => query.bind(clickhouse::sql::Identifier("NULL")),
    }
}

impl ChSession {
    pub fn new(pool: Arc<ChPool>, stats: Arc<SessionStats>) -> Self {
        Self { pool, lease: OnceCell::new(), pending: std::sync::Mutex::new(Vec::new()), stats }
    }

    /// The session's client, opened on first use (once, even under concurrent first uses); it
    /// holds one of the pool's slots until the request ends.
    pub async fn client(&self) -> Result<&clickhouse::Client, StoreError> {
        let lease = self
            .lease
            .get_or_try_init(|| async {
                let lease = self.pool.acquire().await?;
                self.stats.ch_opened.fetch_add(1, Ordering::Relaxed);
                metrics::counter!("coffee_sessions_opened_total", "store" => "clickhouse").increment(1);
                Ok::<_, StoreError>(lease)
            })
            .await?;
        Ok(&lease.client)
    }

    /// The pool this session's slot comes from (its statements run under the pool's guard).
    pub fn pool(&self) -> &ChPool {
        &self.pool
    }

    pub fn is_open(&self) -> bool {
        self.lease.initialized()
    }

    /// Buffers a write until commit.
    pub async fn write(&self, write: PendingWrite) -> Result<(), StoreError> {
        self.client().await?;
        self.pending.lock().expect("pending lock").push(write);
        Ok(())
    }

    pub async fn commit(&self) -> Result<(), StoreError> {
        let pending = std::mem::take(&mut *self.pending.lock().expect("pending lock"));
        if pending.is_empty() {
            return Ok(());
        }
        let client = self.client().await?;
        for w in pending {
            let mut q = client.query(&w.sql);
            for v in &w.binds {
                q = bind(q, v);
            }
            // under the pool's deadline and breaker, as reads are: a silent server ends the
            // commit at `CH_QUERY_TIMEOUT_MS` instead of holding the request
            self.pool.guarded(async { q.execute().await.map_err(StoreError::from) }).await?;
        }
        Ok(())
    }

    pub fn rollback(&self) {
        self.pending.lock().expect("pending lock").clear();
    }
}
