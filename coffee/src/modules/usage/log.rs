//! The usage log: profile views and searches of unlimited plans, group-committed.
//!
//! Counting every view inside the request's own transaction costs a `BEGIN`, two inserts, a
//! `COMMIT` and a counter update per request, and the counter is one hot row per partner and
//! month that every concurrent request of that partner queues on. Instead, requests hand
//! their event to one writer task and wait for it to be durable: the writer takes whatever
//! has queued up (up to [`MAX_BATCH`]) and writes all of it in one autocommitted statement
//! (page tracks aggregated per profile, one activity row per event, one counter update per
//! partner and month), then answers every waiting request. Under load, the events of all the
//! requests in flight share one round trip; when idle, an event is written at once.
//!
//! Guarantees:
//! - a request answers 2xx only after its event is committed, so a crash never loses an
//!   acknowledged view; a failed write fails every request of that batch (500, logged; 503
//!   with `Retry-After` when the database is unavailable or silent: each batch has
//!   `PG_QUERY_TIMEOUT_MS` and a breaker of its own; a batch cut at its deadline may still
//!   commit once Postgres answers, so such a view can be counted although it was answered 503);
//! - an event is all-or-nothing: its page track, activity row and counters commit together;
//! - an event whose partner does not exist is refused (422) without affecting the rest of
//!   its batch; a user id that does not exist is recorded as no user (the activity table's
//!   own `ON DELETE SET NULL` semantics), rather than failing the batch;
//! - an event is queued only once the view is known to succeed (the profile exists, the
//!   plan is unlimited); a request cancelled after queueing (client gone, `SERVER_TIMEOUT`)
//!   still has its view counted, as the profile was served by then.
//!
//! FREE plans are not logged here: their quota must be checked against the counters under a
//! row lock, inside the request's transaction (see [`super::service`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use store::pg::GuardedPool;

use crate::core::observe::{self, Store};
use crate::domain::Platform;
use crate::error::{ApiError, ApiResult};

/// The most events one statement writes.
pub const MAX_BATCH: usize = 1024;
/// Requests queue beyond the batch being written; past this, senders wait (back-pressure).
const QUEUE: usize = 8 * MAX_BATCH;

/// One thing a partner did that counts against its usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsageEvent {
    ProfileView {
        partner_id: i64,
        user_id: Option<i64>,
        /// The API key's client id, when a key made the request (its activity row names it).
        api_client: Option<String>,
        platform: Platform,
        profile_id: i64,
        at: DateTime<Utc>,
    },
    Search {
        partner_id: i64,
        user_id: Option<i64>,
        at: DateTime<Utc>,
    },
}

impl UsageEvent {
    fn partner_id(&self) -> i64 {
        match self {
            Self::ProfileView { partner_id, .. } | Self::Search { partner_id, .. } => *partner_id,
        }
    }
}

/// The first day of `at`'s month (UTC), the key of the monthly counters.
pub fn month_of(at: DateTime<Utc>) -> NaiveDate {
    let day = at.date_naive();
    NaiveDate::from_ymd_opt(day.year(), day.month(), 1).expect("the first of a month exists")
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Recorded,
    UnknownPartner,
    Failed,
    /// The database was unreachable or silent (or its breaker open).
    Unavailable,
}

struct Queued {
    event: UsageEvent,
    done: oneshot::Sender<Outcome>,
}

/// A handle to the writer task; cheap to clone. The task ends after [`UsageLog::shutdown`] or
/// when the last handle is dropped, in both cases after writing everything queued.
#[derive(Clone)]
pub struct UsageLog {
    queue: mpsc::Sender<Queued>,
    closing: CancellationToken,
    writer: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl UsageLog {
    /// Starts the writer task on the current runtime. `pool` must be the log's own (one
    /// connection is enough): requests waiting for the log hold connections of the main pool,
    /// so a writer drawing from it could starve behind them.
    pub fn start(pool: GuardedPool, slow: Duration) -> Self {
        let (queue, rx) = mpsc::channel(QUEUE);
        let closing = CancellationToken::new();
        let writer = tokio::spawn(write_loop(pool, slow, rx, closing.clone()));
        Self { queue, closing, writer: Arc::new(Mutex::new(Some(writer))) }
    }

    /// Stops taking events and waits until every queued one is written, including those of
    /// requests that were cancelled after queueing. Run once the server has drained.
    pub async fn shutdown(&self) {
        self.closing.cancel();
        let writer = self.writer.lock().expect("writer handle lock").take();
        if let Some(writer) = writer {
            if let Err(e) = writer.await {
                tracing::error!(error = %e, "the usage log writer failed");
            }
        }
    }

    /// Events waiting for the writer (not counting the batch being written).
    pub fn queued(&self) -> usize {
        QUEUE - self.queue.capacity()
    }

    /// Queues `event` and waits until it is committed.
    pub async fn record(&self, event: UsageEvent) -> ApiResult<()> {
        let partner_id = event.partner_id();
        let (done, outcome) = oneshot::channel();
        self.queue
            .send(Queued { event, done })
            .await
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("the usage log writer has stopped")))?;
        match outcome.await {
            Ok(Outcome::Recorded) => Ok(()),
            Ok(Outcome::UnknownPartner) => Err(ApiError::Unprocessable(format!("partner {partner_id} does not exist"))),
            Ok(Outcome::Unavailable) => Err(ApiError::Unavailable(
                "the database is unavailable: the view may not have been recorded; retry shortly".into(),
            )),
            // the writer logged the cause
            Ok(Outcome::Failed) | Err(_) => {
                Err(ApiError::Internal(anyhow::anyhow!("recording usage for partner {partner_id} failed")))
            }
        }
    }
}

async fn write_loop(pool: GuardedPool, slow: Duration, mut rx: mpsc::Receiver<Queued>, closing: CancellationToken) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut closed = false;
    loop {
        let received = tokio::select! {
            n = rx.recv_many(&mut batch, MAX_BATCH) => n,
            _ = closing.cancelled(), if !closed => {
                // no new events; what is queued is still received, then recv_many returns 0
                rx.close();
                closed = true;
                continue;
            }
        };
        if received == 0 {
            break;
        }
        metrics::histogram!("coffee_usage_log_batch_events").record(batch.len() as f64);
        metrics::gauge!("coffee_usage_log_queued").set(rx.len() as f64);
        let events: Vec<&UsageEvent> = batch.iter().map(|q| &q.event).collect();
        let written = pool.run(super::repo::write_log_batch(pool.pool(), &events));
        let result = observe::query(Store::Postgres, "usage_log_write", slow, written).await;
        let known = match result {
            Ok(known) => Ok(known),
            Err(e) if e.unavailable().is_some() => {
                tracing::warn!(error = %e, events = batch.len(), "usage batch not written: the database is unavailable");
                Err(Outcome::Unavailable)
            }
            Err(e) => {
                tracing::error!(error = %e, events = batch.len(), "writing a usage batch failed; its requests get 500");
                Err(Outcome::Failed)
            }
        };
        for queued in batch.drain(..) {
            let outcome = match &known {
                Ok(known) if known.contains(&queued.event.partner_id()) => Outcome::Recorded,
                Ok(_) => Outcome::UnknownPartner,
                Err(failed) => failed.clone(),
            };
            // the request may have gone away meanwhile; its event is written all the same
            let _ = queued.done.send(outcome);
        }
    }
    // the connection is the log's alone (see `UsageLog::start`)
    pool.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_start_on_the_first_in_utc() {
        let at = DateTime::parse_from_rfc3339("2026-02-28T23:59:59Z").unwrap().with_timezone(&Utc);
        assert_eq!(month_of(at), NaiveDate::from_ymd_opt(2026, 2, 1).unwrap());
    }
}
