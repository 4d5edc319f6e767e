//! One refresh of one creator: try the platform's sources in order, each with a usable
//! credential and within its own limit, then store what the first good answer said.
//!
//! Failover: a 429 or quota error benches the credential and moves on, as do a 5xx, a timeout,
//! a malformed payload or the source's own limit; a 404 ends the refresh as "no such creator".
//! When nothing could even be asked (every credential benched, every source's limit spent),
//! the answer says when to come back. Concurrent refreshes of one handle share one run
//! ([`single_flight`]), which is spawned, so it finishes even if its callers go away.

pub mod repo;
pub mod request_log;
mod single_flight;
pub mod snapshots;
pub mod sources;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use domain::{Handle, Platform};
use ratelimit::Limiter;
use redis::aio::ConnectionManager;
use store::pg::{GuardedPool, PgError};

use crate::credentials::Credentials;
use crate::providers::{Call, Post, Profile, ProviderError, Source};
use repo::{PostStats, StoredProfile};
use request_log::RequestLog;
use single_flight::SingleFlight;
use snapshots::{PostDay, ProfileDay, Snapshots};

/// How much a refresh fetches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Depth {
    /// The profile only.
    Basic,
    /// The profile and its latest posts.
    Full,
}

/// Why one source gave a refresh no answer: `what` in the words a client is told, `detail` in
/// the words of logs and a task's last error (it may quote the provider's own answer).
#[derive(Debug, Clone)]
pub struct SourceFailure {
    pub source: String,
    pub what: &'static str,
    pub detail: String,
}

impl SourceFailure {
    fn new(source: &str, what: &'static str) -> Self {
        Self { source: source.to_owned(), what, detail: what.to_owned() }
    }

    fn of(source: &str, e: &ProviderError) -> Self {
        Self { source: source.to_owned(), what: e.summary(), detail: e.to_string() }
    }
}

impl std::fmt::Display for SourceFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.source, self.detail)
    }
}

fn joined(reasons: &[SourceFailure], part: impl Fn(&SourceFailure) -> String) -> String {
    reasons.iter().map(part).collect::<Vec<_>>().join("; ")
}

#[derive(Debug, thiserror::Error)]
pub enum RefreshError {
    #[error("no such creator")]
    NotFound,
    /// Nothing could be asked now; `retry_after` is when something heals.
    #[error("every source is throttled for now: {}", joined(reasons, ToString::to_string))]
    Throttled { retry_after: Duration, reasons: Vec<SourceFailure> },
    #[error("every source failed: {}", joined(reasons, ToString::to_string))]
    AllFailed { reasons: Vec<SourceFailure> },
    /// No source was asked: beat's own limit store (Redis) could not say whether they may be.
    /// A store outage of beat's, not a provider's failure.
    #[error("the refresh limits cannot be checked: {}", joined(reasons, ToString::to_string))]
    LimitsUnavailable { reasons: Vec<SourceFailure> },
    #[error("storing the refresh failed")]
    Store(#[source] PgError),
    #[error("the refresh stopped before it finished")]
    Task(#[source] tokio::task::JoinError),
    /// Postgres is unavailable (unreachable, silent, or its breaker open). The refresh's write
    /// may or may not have committed (a deadline can pass during its COMMIT); it is an upsert,
    /// so a retry converges.
    #[error("the database is unavailable; the refresh may not have been stored, retry it")]
    DatabaseUnavailable {
        retry_after: Option<Duration>,
        #[source]
        cause: PgError,
    },
    /// The profile and posts are stored in Postgres; the day's time series could not be
    /// written to ClickHouse (a retry writes it again, and the day is kept once).
    #[error("the analytics store is unavailable; the creator was stored, the day's time series was not: {0}")]
    TimeSeries(String),
}

impl RefreshError {
    /// What a client may read of this failure: each source's failure by its kind, never a
    /// provider's or a store's own words (those go to the logs and the task's last error).
    pub fn public_detail(&self) -> String {
        match self {
            Self::Throttled { reasons, .. } => {
                format!(
                    "every source is throttled for now: {}",
                    joined(reasons, |r| format!("{}: {}", r.source, r.what))
                )
            }
            Self::AllFailed { reasons } => {
                format!("every source failed: {}", joined(reasons, |r| format!("{}: {}", r.source, r.what)))
            }
            Self::TimeSeries(_) => {
                "the analytics store is unavailable; the creator was stored, retry for its time series".to_owned()
            }
            Self::LimitsUnavailable { .. } => LIMITS_UNAVAILABLE.to_owned(),
            other => other.to_string(),
        }
    }
}

/// What a client reads when beat's limit store is away (a full refresh's stacked limit, or the
/// sources' own limits).
pub const LIMITS_UNAVAILABLE: &str = "the refresh limits cannot be checked; retry shortly";

impl From<PgError> for RefreshError {
    fn from(e: PgError) -> Self {
        match e.unavailable() {
            Some(retry_after) => Self::DatabaseUnavailable { retry_after, cause: e },
            None => Self::Store(e),
        }
    }
}

/// Everything a refresh needs, shared by the API and the queue's workers.
pub struct Refresher {
    pub http: reqwest::Client,
    pub sources: HashMap<Platform, Vec<Source>>,
    pub credentials: Credentials,
    pub limiter: Limiter<ConnectionManager>,
    pub log: RequestLog,
    pub pg: GuardedPool,
    pub snapshots: Snapshots,
    inflight: SingleFlight<(Platform, String, Depth), Result<StoredProfile, Arc<RefreshError>>>,
}

impl Refresher {
    pub fn new(
        http: reqwest::Client,
        sources: HashMap<Platform, Vec<Source>>,
        credentials: Credentials,
        limiter: Limiter<ConnectionManager>,
        log: RequestLog,
        pg: GuardedPool,
        snapshots: Snapshots,
    ) -> Arc<Self> {
        Arc::new(Self { http, sources, credentials, limiter, log, pg, snapshots, inflight: SingleFlight::default() })
    }

    /// Refreshes `handle`; concurrent calls for the same handle and depth share one run.
    pub async fn refresh(self: &Arc<Self>, handle: &Handle, depth: Depth) -> Result<StoredProfile, Arc<RefreshError>> {
        let key = (handle.platform(), handle.as_str().to_ascii_lowercase(), depth);
        let (this, handle) = (self.clone(), handle.clone());
        self.inflight
            .run(key, move || async move {
                tokio::spawn(async move { this.run(&handle, depth, None).await.map_err(Arc::new) })
                    .await
                    .unwrap_or_else(|e| Err(Arc::new(RefreshError::Task(e))))
            })
            .await
    }

    /// One refresh, not shared (the queue's workers call this for their task).
    pub async fn run(
        &self,
        handle: &Handle,
        depth: Depth,
        task_id: Option<i64>,
    ) -> Result<StoredProfile, RefreshError> {
        let started = std::time::Instant::now();
        let sources = self.sources.get(&handle.platform()).map(Vec::as_slice).unwrap_or_default();
        let mut reasons = Vec::new();
        let mut failed = false;
        let mut limits_down = false;
        let mut own_limit: Option<Duration> = None;
        for source in sources {
            let Some(credential) = self.credentials.pick(&source.name).await? else {
                reasons.push(SourceFailure::new(&source.name, "no usable credential"));
                continue;
            };
            let call = Call {
                http: &self.http,
                source,
                credential: &credential,
                limiter: &self.limiter,
                log: &self.log,
                task_id,
            };
            let fetched = async {
                let profile = source.adapter.profile(&call, handle).await?;
                let posts = match depth {
                    Depth::Basic => Vec::new(),
                    Depth::Full => source.adapter.posts(&call, &profile, None).await?.posts,
                };
                Ok::<_, ProviderError>((profile, posts))
            }
            .await;
            match fetched {
                Ok((profile, posts)) => {
                    self.credentials.succeeded(credential.id).await?;
                    let stored = self.store(&profile, &posts, depth).await?;
                    metrics::counter!("beat_refreshes_total", "source" => source.name.clone(), "outcome" => "ok")
                        .increment(1);
                    metrics::histogram!("beat_refresh_duration_seconds").record(started.elapsed().as_secs_f64());
                    return Ok(stored);
                }
                Err(ProviderError::NotFound) => {
                    metrics::counter!("beat_refreshes_total", "source" => source.name.clone(), "outcome" => "not_found")
                        .increment(1);
                    return Err(RefreshError::NotFound);
                }
                Err(e @ (ProviderError::RateLimited { .. } | ProviderError::CredentialRefused(_))) => {
                    let retry_after = match &e {
                        ProviderError::RateLimited { retry_after } => *retry_after,
                        _ => None,
                    };
                    let until = self.credentials.bench(credential.id, retry_after).await?;
                    tracing::info!(source = %source.name, credential = credential.id, %until, error = %e, "credential benched");
                    reasons.push(SourceFailure::of(&source.name, &e));
                }
                Err(ProviderError::Throttled { retry_after }) => {
                    own_limit = Some(own_limit.map_or(retry_after, |o| o.min(retry_after)));
                    reasons.push(SourceFailure::new(&source.name, "its own limit is spent"));
                }
                Err(e @ ProviderError::LimitsUnavailable(_)) => {
                    // not asked: this is beat's outage, and says nothing of the source or the key
                    tracing::warn!(source = %source.name, error = %e, "source not asked: its limit cannot be checked");
                    limits_down = true;
                    reasons.push(SourceFailure::of(&source.name, &e));
                }
                Err(e @ (ProviderError::Unavailable(_) | ProviderError::Malformed(_))) => {
                    tracing::warn!(source = %source.name, error = %e, "source failed; trying the next");
                    failed = true;
                    reasons.push(SourceFailure::of(&source.name, &e));
                }
            }
            metrics::counter!("beat_failovers_total", "source" => source.name.clone()).increment(1);
        }
        if sources.is_empty() {
            reasons.push(SourceFailure::new(&handle.platform().to_string(), "no source is configured"));
        }
        if failed || sources.is_empty() {
            return Err(RefreshError::AllFailed { reasons });
        }
        if limits_down {
            return Err(RefreshError::LimitsUnavailable { reasons });
        }
        let names: Vec<String> = sources.iter().map(|s| s.name.clone()).collect();
        let healing =
            self.credentials.next_healing(&names).await?.map(|at| (at - Utc::now()).to_std().unwrap_or_default());
        let retry_after = match (healing, own_limit) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            // nothing heals by itself (credentials disabled by an operator, or none at all)
            (None, None) => Duration::from_secs(3600),
        };
        Err(RefreshError::Throttled { retry_after: retry_after.max(Duration::from_secs(1)), reasons })
    }

    async fn store(&self, profile: &Profile, posts: &[Post], depth: Depth) -> Result<StoredProfile, RefreshError> {
        let stats = match depth {
            Depth::Full => PostStats::of(profile, posts),
            Depth::Basic => None,
        };
        let timer = std::time::Instant::now();
        let saved = self.pg.run(repo::save(&self.pg, profile, posts, stats)).await?;
        metrics::histogram!("beat_refresh_store_duration_seconds", "store" => "postgres")
            .record(timer.elapsed().as_secs_f64());
        let p = &saved.profile;
        let now = Utc::now();
        let platform = profile.platform.code();
        let day = ProfileDay {
            platform,
            profile_id: p.id as u64,
            date: now.date_naive(),
            followers: p.followers.max(0) as u64,
            following: p.following.unwrap_or(0).max(0) as u64,
            posts: p.content_count.max(0) as u32,
            engagement_rate: p.engagement_rate,
            avg_likes: p.avg_likes,
            avg_comments: p.avg_comments,
            avg_views: p.avg_views,
            category: p.category.clone().unwrap_or_default(),
            ingested_at: now,
        };
        let by_key: HashMap<&str, &Post> = posts.iter().map(|post| (post.id.as_str(), post)).collect();
        let post_days = saved
            .post_ids
            .iter()
            .filter_map(|(key, id)| {
                let post = by_key.get(key.as_str())?;
                Some(PostDay {
                    platform,
                    profile_id: p.id as u64,
                    post_id: *id as u64,
                    date: day.date,
                    likes: post.likes,
                    comments: post.comments,
                    views: post.views,
                    ingested_at: now,
                })
            })
            .collect();
        let timer = std::time::Instant::now();
        self.snapshots.write(vec![day], post_days).await.map_err(RefreshError::TimeSeries)?;
        metrics::histogram!("beat_refresh_store_duration_seconds", "store" => "clickhouse")
            .record(timer.elapsed().as_secs_f64());
        Ok(saved.profile)
    }
}
