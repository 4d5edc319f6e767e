//! The third-party sources beat refreshes creators from, behind one trait.
//!
//! Each source has an adapter (one file each) that builds its requests and turns its own JSON
//! into the normalized [`Profile`] and [`Post`], validating as it goes: a payload that is
//! malformed or partial fails with a reason ([`ProviderError::Malformed`]) and nothing is
//! written. Every HTTP request an adapter makes goes through [`Call::send`], which first passes
//! the source's own rate limit, then times the exchange and records it in the request log, so
//! no adapter can forget either.

mod arraybobo;
mod best_performance;
mod graph_api;
mod instagram_private;
pub mod model;
mod rocketapi;
mod youtube138;
mod youtube_data;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use domain::{Handle, Platform};
use futures::future::BoxFuture;
use ratelimit::{Decision, Limiter};
use redis::aio::ConnectionManager;

pub use model::{Post, PostKind, PostsPage, Profile};

use crate::credentials::Credential;
use crate::pipeline::request_log::{LogEntry, RequestLog};
use crate::pipeline::sources::SourceLimits;

/// Why a source could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The creator does not exist on the platform: the refresh ends here.
    #[error("no such creator")]
    NotFound,
    /// The provider throttled this credential (429, or its quota error).
    #[error("rate limited by the provider")]
    RateLimited { retry_after: Option<Duration> },
    /// The provider refused the credential itself (revoked key, not subscribed).
    #[error("credential refused: {0}")]
    CredentialRefused(String),
    /// Our own limit for this source is spent for now.
    #[error("the source's own limit is spent for {retry_after:?}")]
    Throttled { retry_after: Duration },
    /// 5xx, timeout, connection failure.
    #[error("source unavailable: {0}")]
    Unavailable(String),
    /// beat's own limit store (Redis) could not say whether the source may be asked, so it was
    /// not: beat's outage, not the source's.
    #[error("the source's limit cannot be checked: {0}")]
    LimitsUnavailable(String),
    #[error("malformed payload: {0}")]
    Malformed(String),
}

impl ProviderError {
    /// The kind of failure, in words a client may read (the message itself can quote the
    /// provider's answer).
    pub fn summary(&self) -> &'static str {
        match self {
            Self::NotFound => "no such creator",
            Self::RateLimited { .. } => "rate limited by the provider",
            Self::CredentialRefused(_) => "credential refused",
            Self::Throttled { .. } => "its own limit is spent",
            Self::Unavailable(_) => "unavailable",
            Self::LimitsUnavailable(_) => "not asked: beat's limit store is unavailable",
            Self::Malformed(_) => "malformed answer",
        }
    }
}

/// One adapter: how a source is asked and how its answers read.
pub trait Provider: Send + Sync + 'static {
    fn platform(&self) -> Platform;
    fn profile<'a>(&'a self, call: &'a Call<'a>, handle: &'a Handle) -> BoxFuture<'a, Result<Profile, ProviderError>>;
    /// The creator in `answer`, this source's reply to the profile request for `handle`: the
    /// part of [`Provider::profile`] after the request, apart so that it can be fuzzed.
    fn read_profile(&self, source: &str, answer: &Exchange, handle: &Handle) -> Result<Profile, ProviderError>;
    /// Recent posts of a profile this source (or another) returned; `cursor` from the previous
    /// page.
    fn posts<'a>(
        &'a self,
        call: &'a Call<'a>,
        profile: &'a Profile,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<PostsPage, ProviderError>>;
    /// The page in `answers`, this source's replies to the requests of one [`Provider::posts`]
    /// page of `profile`, in the order it asks them: the part of [`Provider::posts`] after the
    /// requests, apart so that it can be fuzzed. A source that answers a page in one exchange
    /// reads the first; a two-step source (a list, then the details of what it names) reads the
    /// list first, then the answers about its items in the list's order. An answer that is not
    /// there (fewer answers than the list asks for) is the source not answering,
    /// [`ProviderError::Unavailable`]; answers past those the page needs are ignored.
    fn read_posts(&self, source: &str, answers: &[Exchange], profile: &Profile) -> Result<PostsPage, ProviderError>;
}

/// The `i`-th of a page's answers, to the request for `what`, or the source's silence.
fn answer<'x>(answers: &'x [Exchange], i: usize, what: &str) -> Result<&'x Exchange, ProviderError> {
    answers.get(i).ok_or_else(|| ProviderError::Unavailable(format!("no answer to {what}")))
}

/// The adapters by source name, as configuration and the `scrape_source` table name them.
pub fn adapter(name: &str) -> Option<Arc<dyn Provider>> {
    Some(match name {
        "insta-best-performance" => Arc::new(best_performance::BestPerformance),
        "arraybobo" => Arc::new(arraybobo::Arraybobo),
        "rocketapi" => Arc::new(rocketapi::RocketApi),
        "graphapi" => Arc::new(graph_api::GraphApi),
        "youtube138" => Arc::new(youtube138::Youtube138),
        "youtubev31" => Arc::new(youtube_data::YoutubeData::rapidapi()),
        "youtube-data-api" => Arc::new(youtube_data::YoutubeData::google()),
        _ => return None,
    })
}

/// Every source an adapter exists for, with its platform.
pub const SOURCES: [(&str, Platform); 7] = [
    ("insta-best-performance", Platform::Instagram),
    ("arraybobo", Platform::Instagram),
    ("rocketapi", Platform::Instagram),
    ("graphapi", Platform::Instagram),
    ("youtube138", Platform::Youtube),
    ("youtubev31", Platform::Youtube),
    ("youtube-data-api", Platform::Youtube),
];

/// A source as the refresh uses it: its adapter, where it lives, and its own limit.
#[derive(Clone)]
pub struct Source {
    pub name: String,
    pub base_url: String,
    pub adapter: Arc<dyn Provider>,
    pub limits: SourceLimits,
}

impl std::fmt::Debug for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source").field("name", &self.name).field("base_url", &self.base_url).finish_non_exhaustive()
    }
}

/// What one HTTP exchange returned.
#[derive(Debug)]
pub struct Exchange {
    pub status: u16,
    pub retry_after: Option<Duration>,
    pub body: Bytes,
}

impl Exchange {
    /// The answers every source gives the same meaning: 404, 429, 401, 5xx. `None` for a
    /// 2xx (or a status the adapter reads itself).
    pub fn common_failure(&self) -> Option<ProviderError> {
        match self.status {
            200..=299 => None,
            404 => Some(ProviderError::NotFound),
            429 => Some(ProviderError::RateLimited { retry_after: self.retry_after }),
            401 => Some(ProviderError::CredentialRefused(format!("HTTP 401: {}", self.snippet()))),
            500..=599 => Some(ProviderError::Unavailable(format!("HTTP {}", self.status))),
            _ => Some(ProviderError::Unavailable(format!("HTTP {}: {}", self.status, self.snippet()))),
        }
    }

    /// The start of the body, for error messages.
    pub fn snippet(&self) -> String {
        String::from_utf8_lossy(&self.body[..self.body.len().min(200)]).into_owned()
    }

    pub fn json<T: serde::de::DeserializeOwned>(&self, source: &str) -> Result<T, ProviderError> {
        serde_json::from_slice(&self.body).map_err(|e| model::malformed(source, e))
    }

    /// The body of a 2xx answer as `T`, or what the status means ([`Self::common_failure`]).
    pub fn decode<T: serde::de::DeserializeOwned>(&self, source: &str) -> Result<T, ProviderError> {
        match self.common_failure() {
            Some(e) => Err(e),
            None => self.json(source),
        }
    }
}

/// Everything one provider call needs: the HTTP client, the source, the credential in use,
/// the limiter and the request log.
pub struct Call<'a> {
    pub http: &'a reqwest::Client,
    pub source: &'a Source,
    pub credential: &'a Credential,
    pub limiter: &'a Limiter<ConnectionManager>,
    pub log: &'a RequestLog,
    pub task_id: Option<i64>,
}

impl Call<'_> {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.source.base_url.trim_end_matches('/'))
    }

    pub fn name(&self) -> &str {
        &self.source.name
    }

    /// The RapidAPI gateway's two headers.
    pub fn rapidapi(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        let host = self.source.base_url.split("://").nth(1).unwrap_or_default().split('/').next().unwrap_or_default();
        req.header("x-rapidapi-key", self.credential.key()).header("x-rapidapi-host", host)
    }

    /// Sends one request: past the source's limit, timed, logged.
    pub async fn send(&self, endpoint: &'static str, req: reqwest::RequestBuilder) -> Result<Exchange, ProviderError> {
        let Some(limit) = self.source.limits.get(&self.source.name) else {
            return Err(ProviderError::Unavailable("switched off in scrape_source".into()));
        };
        match self.limiter.stack(&limit).check(1).await {
            Ok(Decision::Admitted(_)) => {}
            Ok(Decision::Rejected(r)) => return Err(ProviderError::Throttled { retry_after: r.retry_after }),
            Err(e) => return Err(ProviderError::LimitsUnavailable(e.to_string())),
        }
        let started = Instant::now();
        let result = async {
            let resp = req.send().await?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body = resp.bytes().await?;
            Ok::<_, reqwest::Error>(Exchange { status, retry_after, body })
        }
        .await
        // the URL can carry the credential (`key=`, `access_token=`): never in a log or an answer
        .map_err(reqwest::Error::without_url);
        let duration = started.elapsed();
        let (status, error) = match &result {
            Ok(x) if x.status < 400 => (Some(x.status), None),
            Ok(x) => (Some(x.status), Some(x.snippet())),
            Err(e) => (None, Some(platform::problem::error_chain(e))),
        };
        self.log.record(LogEntry {
            task_id: self.task_id,
            source: self.source.name.clone(),
            credential_id: Some(self.credential.id),
            endpoint,
            status,
            duration,
            error,
        });
        result.map_err(|e| {
            ProviderError::Unavailable(if e.is_timeout() {
                "timed out".to_owned()
            } else {
                platform::problem::error_chain(&e)
            })
        })
    }
}
