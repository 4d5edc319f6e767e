//! The `credential` table's SQL.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::Backoff;

/// Marks a random usable credential of `source` as used: (id, source, key).
pub(super) async fn pick(pg: &PgPool, source: &str) -> Result<Option<(i64, String, String)>, sqlx::Error> {
    sqlx::query_as(
        "UPDATE credential SET last_used_at = now()
         WHERE id = (SELECT id FROM credential
                     WHERE source = $1 AND enabled AND (disabled_till IS NULL OR disabled_till <= now())
                     ORDER BY random() LIMIT 1)
         RETURNING id, source, key",
    )
    .bind(source)
    .fetch_optional(pg)
    .await
}

pub(super) async fn bench(
    pg: &PgPool,
    id: i64,
    retry_after: Option<Duration>,
    backoff: Backoff,
) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE credential SET
             disabled_till = now() + make_interval(secs => COALESCE($2, least($3 * power(2, least(failure_count, 30)), $4))),
             failure_count = failure_count + 1
         WHERE id = $1
         RETURNING disabled_till",
    )
    .bind(id)
    .bind(retry_after.map(|d| d.as_secs_f64()))
    .bind(backoff.base.as_secs_f64())
    .bind(backoff.max.as_secs_f64())
    .fetch_one(pg)
    .await
}

pub(super) async fn reset_failures(pg: &PgPool, id: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE credential SET failure_count = 0 WHERE id = $1 AND failure_count > 0")
        .bind(id)
        .execute(pg)
        .await
        .map(drop)
}

pub(super) async fn next_healing(pg: &PgPool, sources: &[String]) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT min(disabled_till) FROM credential WHERE source = ANY($1) AND enabled AND disabled_till > now()",
    )
    .bind(sources)
    .fetch_one(pg)
    .await
}

pub(super) async fn any_usable(pg: &PgPool, sources: &[String]) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM credential WHERE source = ANY($1) AND enabled
                        AND (disabled_till IS NULL OR disabled_till <= now()))",
    )
    .bind(sources)
    .fetch_one(pg)
    .await
}
