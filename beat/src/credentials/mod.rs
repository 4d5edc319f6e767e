//! Provider credentials and their back-off (the `credential` table).
//!
//! A refresh picks a random usable credential of a source. When the provider throttles it (a
//! 429 or its quota error) or refuses it, the credential is benched: for the provider's
//! `Retry-After` when it sends one, else for a base TTL doubled on each consecutive failure
//! (`failure_count`), capped. Benching is only a `disabled_till` in the future, so a credential
//! heals by itself when that time passes; no job re-enables it. `enabled = false` stays the
//! operator's switch.

mod repo;

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
        let row = self.pg.run(repo::pick(self.pg.pool(), source)).await?;
        Ok(row.map(|(id, source, key)| Credential { id, source, key: SecretString::from(key) }))
    }

    /// Benches a credential the provider throttled or refused; returns until when: the
    /// provider's `retry_after`, else the base back-off doubled per consecutive failure, capped.
    pub async fn bench(&self, id: i64, retry_after: Option<Duration>) -> Result<DateTime<Utc>, PgError> {
        self.pg.run(repo::bench(self.pg.pool(), id, retry_after, self.backoff)).await
    }

    /// A success ends a run of failures.
    pub async fn succeeded(&self, id: i64) -> Result<(), PgError> {
        self.pg.run(repo::reset_failures(self.pg.pool(), id)).await
    }

    /// When the first benched credential of these sources heals (`None`: none will by itself).
    pub async fn next_healing(&self, sources: &[String]) -> Result<Option<DateTime<Utc>>, PgError> {
        self.pg.run(repo::next_healing(self.pg.pool(), sources)).await
    }

    /// Whether any of these sources has a credential usable now.
    pub async fn any_usable(&self, sources: &[String]) -> Result<bool, PgError> {
        self.pg.run(repo::any_usable(self.pg.pool(), sources)).await
    }
}
