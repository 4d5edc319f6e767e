//! Provider credentials and their back-off (the `credential` table).
//!
//! A refresh picks a random usable credential of a source. When the provider throttles it (a
//! 429 or its quota error) or refuses it, the credential is benched: for the provider's
//! `Retry-After` when it sends one, else for a base TTL doubled on each consecutive failure
//! (`failure_count`), capped. Benching is only a `disabled_till` in the future, so a credential
//! heals by itself when that time passes; no job re-enables it. `enabled = false` stays the
//! operator's switch.

use std::time::Duration;

use chrono::{DateTime, Utc};
use platform::config::{ExposeSecret, SecretString};
use store::pg::{GuardedPool, PgError};

/// One provider key. The key itself never reaches `Debug` or logs.
#[derive(Clone)]
pub struct Credential {
    pub id: i64,
    pub source: String,
    key: SecretString,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential").field("id", &self.id).field("source", &self.source).finish_non_exhaustive()
    }
}

impl Credential {
    pub fn key(&self) -> &str {
        self.key.expose_secret()
    }
}

/// How long a benched credential rests when the provider does not say.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

#[derive(Clone)]
pub struct Credentials {
    pg: GuardedPool,
    backoff: Backoff,
}

impl Credentials {
    pub fn new(pg: GuardedPool, backoff: Backoff) -> Self {
        Self { pg, backoff }
    }

    /// A random usable credential of `source`, marked as used; `None` when every one is
    /// disabled or benched.
    pub async fn pick(&self, source: &str) -> Result<Option<Credential>, PgError> {
        let pick = sqlx::query_as(
            "UPDATE credential SET last_used_at = now()
             WHERE id = (SELECT id FROM credential
                         WHERE source = $1 AND enabled AND (disabled_till IS NULL OR disabled_till <= now())
                         ORDER BY random() LIMIT 1)
             RETURNING id, source, key",
        )
        .bind(source)
        .fetch_optional(self.pg.pool());
        let row: Option<(i64, String, String)> = self.pg.run(pick).await?;
        Ok(row.map(|(id, source, key)| Credential { id, source, key: SecretString::from(key) }))
    }

    /// Benches a credential the provider throttled or refused; returns until when.
    pub async fn bench(&self, id: i64, retry_after: Option<Duration>) -> Result<DateTime<Utc>, PgError> {
        let bench = sqlx::query_scalar(
            "UPDATE credential SET
                 disabled_till = now() + make_interval(secs => COALESCE($2, least($3 * power(2, least(failure_count, 30)), $4))),
                 failure_count = failure_count + 1
             WHERE id = $1
             RETURNING disabled_till",
        )
        .bind(id)
        .bind(retry_after.map(|d| d.as_secs_f64()))
        .bind(self.backoff.base.as_secs_f64())
        .bind(self.backoff.max.as_secs_f64())
        .fetch_one(self.pg.pool());
        self.pg.run(bench).await
    }

    /// A success ends a run of failures.
    pub async fn succeeded(&self, id: i64) -> Result<(), PgError> {
        let reset = sqlx::query("UPDATE credential SET failure_count = 0 WHERE id = $1 AND failure_count > 0")
            .bind(id)
            .execute(self.pg.pool());
        self.pg.run(reset).await.map(drop)
    }

    /// When the first benched credential of these sources heals (`None`: none will by itself).
    pub async fn next_healing(&self, sources: &[String]) -> Result<Option<DateTime<Utc>>, PgError> {
        let next = sqlx::query_scalar(
            "SELECT min(disabled_till) FROM credential WHERE source = ANY($1) AND enabled AND disabled_till > now()",
        )
        .bind(sources)
        .fetch_one(self.pg.pool());
        self.pg.run(next).await
    }
}
