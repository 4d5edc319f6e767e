//! Today's snapshot of each refreshed creator (and of their posts) into ClickHouse's time
//! series, group-committed.
//!
//! Refreshes hand their rows to one writer task, which writes everything queued so far as one
//! `INSERT` per table (ClickHouse prefers few large inserts to many small ones) and then
//! answers each refresh, so a refresh that returns has its rows in ClickHouse. The crate's
//! `Inserter` batches by size and time too, but tells no one when a given row is committed;
//! this group commit batches as much under load and still acknowledges each refresh. The tables are
//! ReplacingMergeTree keyed by (platform, profile, [post,] date), so a second refresh on the
//! same day replaces that day's row instead of adding one, and the monthly aggregates count
//! days, not rows.
//!
//! Each insert has a deadline (`CH_QUERY_TIMEOUT_MS`) and the writer a circuit breaker: once
//! ClickHouse has been unreachable or silent for `CH_BREAKER_FAILURES` inserts in a row, queued
//! refreshes are told at once that it is unavailable, until a trial insert after the cooldown
//! finds it back.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use clickhouse::Row;
use serde::Serialize;

use breaker::{Breaker, Guarded};
use tokio::sync::{mpsc, oneshot};

#[derive(Debug, Clone, Row, Serialize)]
pub struct ProfileDay {
    /// The table's `Enum8('instagram' = 1, 'youtube' = 2)`.
    pub platform: i8,
    pub profile_id: u64,
    #[serde(with = "clickhouse::serde::chrono::date")]
    pub date: NaiveDate,
    pub followers: u64,
    pub following: u64,
    pub posts: u32,
    pub engagement_rate: f32,
    pub avg_likes: f64,
    pub avg_comments: f64,
    pub avg_views: f64,
    pub category: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub ingested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Row, Serialize)]
pub struct PostDay {
    pub platform: i8,
    pub profile_id: u64,
    pub post_id: u64,
    #[serde(with = "clickhouse::serde::chrono::date")]
    pub date: NaiveDate,
    pub likes: u64,
    pub comments: u64,
    pub views: u64,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub ingested_at: DateTime<Utc>,
}

struct Batch {
    profiles: Vec<ProfileDay>,
    posts: Vec<PostDay>,
    done: oneshot::Sender<Result<(), String>>,
}

#[derive(Clone)]
pub struct Snapshots {
    tx: mpsc::Sender<Batch>,
}

impl Snapshots {
    /// Starts the writer; it ends when every clone is dropped and the queue is written. Each
    /// insert gets at most `deadline`: past it the waiting refreshes are told ClickHouse did not
    /// answer, and the writer goes on with what queued meanwhile (a silent ClickHouse would
    /// otherwise hold every later refresh forever).
    pub fn start(
        client: clickhouse::Client,
        deadline: Duration,
        breaker: Breaker,
    ) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(4096);
        (Self { tx }, tokio::spawn(write(client, rx, deadline, breaker)))
    }

    /// Writes the rows; returns once they are in ClickHouse.
    pub async fn write(&self, profiles: Vec<ProfileDay>, posts: Vec<PostDay>) -> Result<(), String> {
        let (done, answer) = oneshot::channel();
        self.tx.send(Batch { profiles, posts, done }).await.map_err(|_| "the snapshot writer stopped".to_owned())?;
        answer.await.map_err(|_| "the snapshot writer stopped".to_owned())?
    }
}

async fn write(client: clickhouse::Client, mut rx: mpsc::Receiver<Batch>, deadline: Duration, breaker: Breaker) {
    let mut batches = Vec::new();
    while rx.recv_many(&mut batches, 1024).await > 0 {
        let profiles: Vec<&ProfileDay> = batches.iter().flat_map(|b| &b.profiles).collect();
        let posts: Vec<&PostDay> = batches.iter().flat_map(|b| &b.posts).collect();
        // only an unreachable or silent ClickHouse counts against the breaker
        let result = match breaker.call(deadline, insert_all(&client, &profiles, &posts), store::ch::unreachable).await
        {
            Ok(()) => Ok(()),
            Err(Guarded::Open(wait)) => {
                Err(format!("ClickHouse is unavailable (breaker open for {} s more)", wait.as_secs().max(1)))
            }
            Err(Guarded::TimedOut(_)) => Err(format!("ClickHouse did not answer within {deadline:?}")),
            Err(Guarded::Failed(e)) => Err(e.to_string()),
        };
        if let Err(e) = &result {
            tracing::error!(error = %e, rows = profiles.len() + posts.len(), "snapshot insert failed");
        }
        metrics::histogram!("beat_snapshot_batch_rows").record((profiles.len() + posts.len()) as f64);
        for b in batches.drain(..) {
            let _ = b.done.send(result.clone());
        }
    }
}

/// One insert per table for all the rows given.
pub async fn insert_all(
    client: &clickhouse::Client,
    profiles: &[&ProfileDay],
    posts: &[&PostDay],
) -> Result<(), clickhouse::error::Error> {
    if !profiles.is_empty() {
        let mut insert = client.insert::<ProfileDay>("social_profile_time_series").await?;
        for row in profiles {
            insert.write(*row).await?;
        }
        insert.end().await?;
    }
    if !posts.is_empty() {
        let mut insert = client.insert::<PostDay>("post_metrics_time_series").await?;
        for row in posts {
            insert.write(*row).await?;
        }
        insert.end().await?;
    }
    Ok(())
}
