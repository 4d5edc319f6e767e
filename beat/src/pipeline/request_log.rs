//! Every provider call, written to `scrape_request_log` through a pool of its own.
//!
//! Recording never waits: entries go into a bounded channel and one writer task inserts them
//! in batches (one `INSERT … SELECT FROM unnest(…)` per batch) on the log pool, which is small
//! and separate from the main pool, so logging can neither slow a refresh nor take the
//! connections refreshes need. When the log store is down or silent (each batch has
//! `PG_QUERY_TIMEOUT_MS`, behind a breaker of its own) or the channel is full, entries are
//! dropped and counted (`beat_request_log_dropped_total`) rather than failing the refresh. On
//! shutdown the writer drains what was queued.

use std::time::Duration;

use store::pg::GuardedPool;
use tokio::sync::mpsc;

/// One provider call.
#[derive(Debug, Clone)]
pub struct LogEntry {
    pub task_id: Option<i64>,
    pub source: String,
    pub credential_id: Option<i64>,
    pub endpoint: &'static str,
    pub status: Option<u16>,
    pub duration: Duration,
    pub error: Option<String>,
}

const QUEUE: usize = 10_000;
const BATCH: usize = 500;

#[derive(Clone)]
pub struct RequestLog {
    tx: mpsc::Sender<LogEntry>,
}

impl RequestLog {
    /// Starts the writer; it ends once every `RequestLog` clone is dropped and the queue is
    /// written.
    pub fn start(pool: GuardedPool) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (Self { tx }, tokio::spawn(write(pool, rx)))
    }

    pub fn record(&self, entry: LogEntry) {
        if self.tx.try_send(entry).is_err() {
            metrics::counter!("beat_request_log_dropped_total", "reason" => "queue_full").increment(1);
        }
    }
}

async fn write(pool: GuardedPool, mut rx: mpsc::Receiver<LogEntry>) {
    let mut batch = Vec::with_capacity(BATCH);
    while rx.recv_many(&mut batch, BATCH).await > 0 {
        let n = batch.len() as u64;
        // under the log pool's deadline and breaker: a silent log store costs entries, never a
        // writer stuck behind it (nor a shutdown waiting on it)
        if let Err(e) = pool.run(super::repo::insert_request_log(pool.pool(), &batch)).await {
            tracing::warn!(error = %e, entries = n, "request log entries dropped: the log store did not take them");
            metrics::counter!("beat_request_log_dropped_total", "reason" => "store").increment(n);
        } else {
            metrics::counter!("beat_request_log_written_total").increment(n);
        }
        batch.clear();
    }
}
