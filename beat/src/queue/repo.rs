//! The queue's SQL: enqueue (one or thousands in one statement), claim, heartbeat, the fenced
//! outcomes, the reaper, release on shutdown, and retention.

use std::time::Duration;

use chrono::{DateTime, Utc};
use domain::Platform;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use super::FlowName;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[sqlx(type_name = "text", rename_all = "SCREAMING_SNAKE_CASE")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskStatus {
    Pending,
    Running,
    Succeeded,
    Failed,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Task {
    pub id: i64,
    #[schema(value_type = String)]
    pub flow: FlowName,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub platform: Platform,
    pub target: String,
    pub priority: i16,
    pub status: TaskStatus,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_after: DateTime<Utc>,
    pub locked_by: Option<String>,
    pub lease_until: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, flow, platform, target, priority, status, attempts, max_attempts, run_after, locked_by, \
                       lease_until, last_error, started_at, finished_at, created_at";

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewTask {
    #[schema(value_type = String)]
    pub flow: FlowName,
    #[schema(value_type = String)]
    pub platform: Platform,
    pub target: String,
    /// Higher runs first; the flow's default when not given.
    #[serde(default)]
    pub priority: Option<i16>,
    #[serde(default = "default_attempts")]
    pub max_attempts: i32,
    /// Not before this time (default now).
    pub run_after: Option<DateTime<Utc>>,
}

fn default_attempts() -> i32 {
    5
}

/// The channel enqueues notify, so idle workers wake at once.
pub const CHANNEL: &str = "scrape_task";

/// Enqueues one task, or returns the open one for the same (flow, platform, target); the bool
/// says whether this call created it.
pub async fn enqueue(pg: &PgPool, task: &NewTask) -> Result<(Task, bool), sqlx::Error> {
    let mut created = enqueue_many(pg, std::slice::from_ref(task)).await?;
    Ok(created.pop().expect("one task in, one task out"))
}

/// Enqueues many tasks in one statement (duplicates within the list count once, the highest
/// priority winning), returning each resulting task and whether it is new. Notifies the
/// workers in the same transaction.
pub async fn enqueue_many(pg: &PgPool, tasks: &[NewTask]) -> Result<Vec<(Task, bool)>, sqlx::Error> {
    let mut tx = pg.begin().await?;
    let flows: Vec<&str> = tasks.iter().map(|t| t.flow.as_str()).collect();
    let platforms: Vec<&str> = tasks.iter().map(|t| t.platform.as_str()).collect();
    let targets: Vec<&str> = tasks.iter().map(|t| t.target.as_str()).collect();
    let priorities: Vec<i16> = tasks.iter().map(|t| t.priority.unwrap_or(0)).collect();
    let attempts: Vec<i32> = tasks.iter().map(|t| t.max_attempts).collect();
    let run_after: Vec<Option<DateTime<Utc>>> = tasks.iter().map(|t| t.run_after).collect();
    // an open task takes the higher priority and the earlier start; a RUNNING one is left be
    // (no row comes back for it, and it is read below)
    let sql = format!(
        "INSERT INTO scrape_task (flow, platform, target, priority, max_attempts, run_after)
         SELECT DISTINCT ON (f, p, t) f, p, t, pr, m, coalesce(r, now())
         FROM unnest($1::text[], $2::text[], $3::text[], $4::smallint[], $5::int[], $6::timestamptz[]) AS u(f, p, t, pr, m, r)
         ORDER BY f, p, t, pr DESC
         ON CONFLICT (flow, platform, target) WHERE status IN ('PENDING', 'RUNNING') DO UPDATE
             SET priority = greatest(scrape_task.priority, excluded.priority),
                 run_after = least(scrape_task.run_after, excluded.run_after)
             WHERE scrape_task.status = 'PENDING'
         RETURNING {COLUMNS}, (xmax = 0) AS created"
    );
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        task: Task,
        created: bool,
    }
    let rows: Vec<Row> = sqlx::query_as(&sql)
        .bind(&flows)
        .bind(&platforms)
        .bind(&targets)
        .bind(&priorities)
        .bind(&attempts)
        .bind(&run_after)
        .fetch_all(&mut *tx)
        .await?;
    let mut out: Vec<(Task, bool)> = rows.into_iter().map(|r| (r.task, r.created)).collect();
    // where each (flow, platform, target) was asked first, to answer in the order asked
    let mut asked: std::collections::HashMap<(&str, &str, &str), usize> = std::collections::HashMap::new();
    for (i, t) in tasks.iter().enumerate() {
        asked.entry((t.flow.as_str(), t.platform.as_str(), t.target.as_str())).or_insert(i);
    }
    let answered: std::collections::HashSet<(String, String, String)> = out
        .iter()
        .map(|(t, _)| (t.flow.as_str().to_owned(), t.platform.as_str().to_owned(), t.target.clone()))
        .collect();
    // duplicates of RUNNING tasks come back from no insert: read them
    let keys: Vec<String> = asked
        .keys()
        .filter(|(f, p, t)| !answered.contains(&((*f).to_owned(), (*p).to_owned(), (*t).to_owned())))
        .map(|(f, p, t)| format!("{f}|{p}|{t}"))
        .collect();
    if !keys.is_empty() {
        let running: Vec<Task> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM scrape_task WHERE status IN ('PENDING', 'RUNNING')
             AND flow || '|' || platform || '|' || target = ANY($1)"
        ))
        .bind(&keys)
        .fetch_all(&mut *tx)
        .await?;
        out.extend(running.into_iter().map(|t| (t, false)));
    }
    if out.iter().any(|(_, created)| *created) {
        sqlx::query("SELECT pg_notify($1, '')").bind(CHANNEL).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    out.sort_by_key(|(t, _)| asked.get(&(t.flow.as_str(), t.platform.as_str(), t.target.as_str())).copied());
    Ok(out)
}

/// Claims up to `n` runnable tasks of `flows` for `worker`, highest priority first, each with a
/// lease of `lease`. One statement; concurrent claimers skip each other's rows.
pub async fn claim(
    pg: &PgPool,
    worker: &str,
    flows: &[String],
    n: i64,
    lease: Duration,
) -> Result<Vec<Task>, sqlx::Error> {
    let mut tasks: Vec<Task> = sqlx::query_as(&format!(
        "UPDATE scrape_task SET status = 'RUNNING', locked_by = $1, lease_until = now() + make_interval(secs => $4),
             attempts = attempts + 1, started_at = now(), finished_at = NULL
         WHERE id IN (SELECT id FROM scrape_task
                      WHERE status = 'PENDING' AND run_after <= now() AND flow = ANY($2)
                      ORDER BY priority DESC, run_after, id
                      LIMIT $3
                      FOR UPDATE SKIP LOCKED)
         RETURNING {COLUMNS}"
    ))
    .bind(worker)
    .bind(flows)
    .bind(n)
    .bind(lease.as_secs_f64())
    .fetch_all(pg)
    .await?;
    // RETURNING does not keep the subquery's order
    tasks.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.run_after.cmp(&b.run_after)).then(a.id.cmp(&b.id)));
    Ok(tasks)
}

/// Extends `worker`'s leases on `ids`; returns the ids it still holds (a missing one was lost).
pub async fn heartbeat(pg: &PgPool, worker: &str, ids: &[i64], lease: Duration) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE scrape_task SET lease_until = now() + make_interval(secs => $3)
         WHERE id = ANY($1) AND locked_by = $2 AND status = 'RUNNING' RETURNING id",
    )
    .bind(ids)
    .bind(worker)
    .bind(lease.as_secs_f64())
    .fetch_all(pg)
    .await
}

/// Marks the task done; `false` when `worker` no longer holds it (its result is refused).
pub async fn complete(pg: &PgPool, worker: &str, id: i64) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE scrape_task SET status = 'SUCCEEDED', locked_by = NULL, lease_until = NULL, last_error = NULL,
             finished_at = now()
         WHERE id = $1 AND locked_by = $2 AND status = 'RUNNING'",
    )
    .bind(id)
    .bind(worker)
    .execute(pg)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks many of `worker`'s tasks done in one statement (fenced like [`complete`]); returns
/// how many it still held.
pub async fn complete_many(pg: &PgPool, worker: &str, ids: &[i64]) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE scrape_task SET status = 'SUCCEEDED', locked_by = NULL, lease_until = NULL, last_error = NULL,
             finished_at = now()
         WHERE id = ANY($1) AND locked_by = $2 AND status = 'RUNNING'",
    )
    .bind(ids)
    .bind(worker)
    .execute(pg)
    .await?;
    Ok(done.rows_affected())
}

/// Why a run did not succeed.
#[derive(Debug, Clone)]
pub enum Failure {
    /// Worth retrying after a back-off (5xx, timeouts, every source failed).
    Retry { error: String, backoff: Duration },
    /// Nothing to retry: the creator does not exist, the payload cannot be read.
    Permanent { error: String },
    /// Held back by a rate limit or benched credentials: runs again at `until`, attempt not spent.
    Defer { reason: String, until: Duration },
}

/// Records a failed run (fenced like [`complete`]); `Retry` past `max_attempts` is FAILED.
pub async fn fail(pg: &PgPool, worker: &str, id: i64, failure: &Failure) -> Result<bool, sqlx::Error> {
    let (kind, error, secs) = match failure {
        Failure::Retry { error, backoff } => ("retry", error, backoff.as_secs_f64()),
        Failure::Permanent { error } => ("permanent", error, 0.0),
        Failure::Defer { reason, until } => ("defer", reason, until.as_secs_f64()),
    };
    let done = sqlx::query(
        "UPDATE scrape_task SET
             status = CASE WHEN $3 = 'permanent' OR ($3 = 'retry' AND attempts >= max_attempts) THEN 'FAILED' ELSE 'PENDING' END,
             attempts = CASE WHEN $3 = 'defer' THEN greatest(attempts - 1, 0) ELSE attempts END,
             run_after = CASE WHEN $3 = 'permanent' THEN run_after ELSE now() + make_interval(secs => $5) END,
             finished_at = CASE WHEN $3 = 'permanent' OR ($3 = 'retry' AND attempts >= max_attempts) THEN now() END,
             last_error = left($4, 2000), locked_by = NULL, lease_until = NULL
         WHERE id = $1 AND locked_by = $2 AND status = 'RUNNING'",
    )
    .bind(id)
    .bind(worker)
    .bind(kind)
    .bind(error)
    .bind(secs)
    .execute(pg)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Exponential back-off for the `attempt`-th failure: `base · 2^(attempt-1)`, capped, with up to
/// ±25 % jitter so a batch that failed together does not retry together.
pub fn backoff(attempt: i32, base: Duration, cap: Duration) -> Duration {
    let exp = base.saturating_mul(2u32.saturating_pow(u32::try_from(attempt.max(1) - 1).unwrap_or(0).min(20)));
    let d = exp.min(cap).as_secs_f64();
    Duration::from_secs_f64(d * (0.75 + rand::random::<f64>() * 0.5))
}

/// Returns tasks whose lease expired to PENDING (their attempt stays spent; a task past its
/// last attempt is FAILED). Returns the ids reaped.
pub async fn reap(pg: &PgPool) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE scrape_task SET
             status = CASE WHEN attempts >= max_attempts THEN 'FAILED' ELSE 'PENDING' END,
             finished_at = CASE WHEN attempts >= max_attempts THEN now() END,
             last_error = 'lease expired (worker lost)', locked_by = NULL, lease_until = NULL
         WHERE status = 'RUNNING' AND lease_until < now()
         RETURNING id",
    )
    .fetch_all(pg)
    .await
}

/// Gives `worker`'s running tasks back to the queue without spending their attempt (graceful
/// shutdown).
pub async fn release(pg: &PgPool, worker: &str) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE scrape_task SET status = 'PENDING', attempts = greatest(attempts - 1, 0), locked_by = NULL,
             lease_until = NULL, run_after = now()
         WHERE locked_by = $1 AND status = 'RUNNING'",
    )
    .bind(worker)
    .execute(pg)
    .await?;
    Ok(done.rows_affected())
}

/// Deletes tasks that finished more than `age` ago, `batch` rows per statement so the table is never
/// locked long; returns how many went.
pub async fn prune(pg: &PgPool, age: Duration, batch: i64) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let done = sqlx::query(
            "DELETE FROM scrape_task WHERE id IN (
                 SELECT id FROM scrape_task WHERE status IN ('SUCCEEDED', 'FAILED')
                 AND coalesce(finished_at, updated_at) < now() - make_interval(secs => $1) LIMIT $2)",
        )
        .bind(age.as_secs_f64())
        .bind(batch)
        .execute(pg)
        .await?;
        total += done.rows_affected();
        if done.rows_affected() < batch as u64 {
            return Ok(total);
        }
    }
}

/// Deletes request-log rows older than `age`, `batch` per statement; returns how many went.
pub async fn prune_request_log(pg: &PgPool, age: Duration, batch: i64) -> Result<u64, sqlx::Error> {
    let mut total = 0;
    loop {
        let done = sqlx::query(
            "DELETE FROM scrape_request_log WHERE id IN (
                 SELECT id FROM scrape_request_log WHERE created_at < now() - make_interval(secs => $1) LIMIT $2)",
        )
        .bind(age.as_secs_f64())
        .bind(batch)
        .execute(pg)
        .await?;
        total += done.rows_affected();
        if done.rows_affected() < batch as u64 {
            return Ok(total);
        }
    }
}

pub async fn get(pg: &PgPool, id: i64) -> Result<Option<Task>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM scrape_task WHERE id = $1")).bind(id).fetch_optional(pg).await
}

/// Open and finished tasks per (flow, status), for the depth gauges.
pub async fn depth(pg: &PgPool) -> Result<Vec<(String, String, i64)>, sqlx::Error> {
    sqlx::query_as("SELECT flow, status, count(*) FROM scrape_task GROUP BY flow, status").fetch_all(pg).await
}

/// A page of tasks, newest first, optionally of one status and flow.
pub async fn list(
    pg: &PgPool,
    status: Option<TaskStatus>,
    flow: Option<&FlowName>,
    page: i64,
    size: i64,
) -> Result<(Vec<Task>, i64), sqlx::Error> {
    let filter = "($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR flow = $2)";
    let items = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM scrape_task WHERE {filter} ORDER BY id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(status)
    .bind(flow.map(FlowName::as_str))
    .bind(size)
    .bind((page - 1) * size)
    .fetch_all(pg)
    .await?;
    let total = sqlx::query_scalar(&format!("SELECT count(*) FROM scrape_task WHERE {filter}"))
        .bind(status)
        .bind(flow.map(FlowName::as_str))
        .fetch_one(pg)
        .await?;
    Ok((items, total))
}

/// The daily refresh of tracked creators: every profile in some collection that was not
/// scraped within `max_age` gets a refresh task (Instagram `profile_refresh`, YouTube
/// `channel_refresh`), at most `limit` per call. Returns how many were new.
pub async fn schedule_stale(pg: &PgPool, max_age: Duration, limit: i64) -> Result<usize, sqlx::Error> {
    let stale: Vec<(String, String)> = sqlx::query_as(
        "SELECT 'instagram', a.handle FROM instagram_account a
         WHERE (a.last_scraped_at IS NULL OR a.last_scraped_at < now() - make_interval(secs => $1))
           AND EXISTS (SELECT 1 FROM profile_collection_item i WHERE i.instagram_account_id = a.id)
         UNION ALL
         SELECT 'youtube', y.handle FROM youtube_account y
         WHERE (y.last_scraped_at IS NULL OR y.last_scraped_at < now() - make_interval(secs => $1))
           AND EXISTS (SELECT 1 FROM profile_collection_item i WHERE i.youtube_account_id = y.id)
         LIMIT $2",
    )
    .bind(max_age.as_secs_f64())
    .bind(limit)
    .fetch_all(pg)
    .await?;
    let tasks: Vec<NewTask> = stale
        .into_iter()
        .map(|(platform, handle)| {
            let platform = if platform == "youtube" { Platform::Youtube } else { Platform::Instagram };
            let flow = if platform == Platform::Youtube { "channel_refresh" } else { "profile_refresh" };
            NewTask {
                flow: FlowName::known(flow),
                platform,
                target: handle,
                priority: Some(-1),
                max_attempts: 5,
                run_after: None,
            }
        })
        .collect();
    if tasks.is_empty() {
        return Ok(0);
    }
    Ok(enqueue_many(pg, &tasks).await?.iter().filter(|(_, created)| *created).count())
}
