//! beat's one error type for its HTTP API: every failure is an `application/problem+json`
//! answer with the right status (the stacked limit's 429 keeps the body its existing clients
//! read);
//! internal causes are logged with their whole chain and never sent.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::problem::Problem;
use ratelimit::RateLimitHeaders;

use crate::pipeline::RefreshError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// Over the stacked refresh limit: the body existing clients read, with RateLimit headers.
    #[error("concurrency limit exceeded")]
    ConcurrencyLimit(RateLimitHeaders),
    /// Nothing can be asked now; come back after the given time.
    #[error("{detail}")]
    Unavailable { detail: String, retry_after: Option<Duration> },
    /// Every source failed.
    #[error("{0}")]
    BadGateway(String),
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// The body of a refresh over the stacked limit: the one its existing clients read, rather
/// than a problem.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ConcurrencyLimited {
    /// "Concurrency Limit Exceeded"
    pub message: &'static str,
    /// 2
    pub code: u8,
}

impl Default for ConcurrencyLimited {
    fn default() -> Self {
        Self { message: "Concurrency Limit Exceeded", code: 2 }
    }
}

impl From<Arc<RefreshError>> for ApiError {
    fn from(e: Arc<RefreshError>) -> Self {
        match &*e {
            RefreshError::NotFound => Self::NotFound("no such creator on the platform".into()),
            RefreshError::Throttled { retry_after, .. } => {
                Self::Unavailable { detail: e.public_detail(), retry_after: Some(*retry_after) }
            }
            // each source's failure was logged with its own words as it happened
            RefreshError::AllFailed { .. } => Self::BadGateway(e.public_detail()),
            RefreshError::LimitsUnavailable { .. } => {
                tracing::warn!(error = %e, "refresh without its limit store");
                Self::Unavailable { detail: e.public_detail(), retry_after: Some(LIMITS_RETRY_AFTER) }
            }
            RefreshError::Store(store::pg::PgError::Sql(cause)) if store::pg::contention(cause) => {
                tracing::info!(error = %platform::problem::error_chain(&*e), "refresh rolled back by a concurrent one");
                Self::Unavailable {
                    detail: store::pg::CONTENTION_DETAIL.to_owned(),
                    retry_after: Some(store::pg::CONTENTION_RETRY_AFTER),
                }
            }
            RefreshError::Store(_) | RefreshError::Task(_) => Self::Internal(anyhow::Error::new(e.clone())),
            RefreshError::DatabaseUnavailable { retry_after, .. } => {
                tracing::warn!(error = %platform::problem::error_chain(&*e), "refresh without its database");
                Self::Unavailable {
                    detail: e.public_detail(),
                    retry_after: Some(retry_after.unwrap_or(POSTGRES_RETRY_AFTER)),
                }
            }
            RefreshError::TimeSeries(_) => {
                tracing::warn!(error = %e, "refresh without its time series");
                Self::Unavailable { detail: e.public_detail(), retry_after: Some(Duration::from_secs(5)) }
            }
        }
    }
}

impl From<ratelimit::Error> for ApiError {
    fn from(e: ratelimit::Error) -> Self {
        match e {
            ratelimit::Error::Unavailable { .. } => {
                tracing::warn!(error = %e, "refresh limits unavailable");
                Self::Unavailable {
                    detail: crate::pipeline::LIMITS_UNAVAILABLE.to_owned(),
                    retry_after: Some(LIMITS_RETRY_AFTER),
                }
            }
            other => Self::Internal(other.into()),
        }
    }
}

impl From<store::pg::PgError> for ApiError {
    fn from(e: store::pg::PgError) -> Self {
        match (e.unavailable(), e) {
            (_, store::pg::PgError::Sql(e)) => Self::Postgres(e),
            (retry_after, e) => {
                tracing::warn!(error = %platform::problem::error_chain(&e), "postgres unavailable");
                Self::Unavailable {
                    detail: "the database is unavailable; retry shortly".to_owned(),
                    retry_after: Some(retry_after.flatten().unwrap_or(POSTGRES_RETRY_AFTER)),
                }
            }
        }
    }
}

/// How long a client waits before retrying when beat's limit store (Redis) is away: a
/// reconnect takes about as long as its timeouts.
const LIMITS_RETRY_AFTER: Duration = Duration::from_secs(2);

/// How long a client waits before retrying when Postgres is unavailable (a lost connection is
/// replaced at once; a restart takes a few seconds).
const POSTGRES_RETRY_AFTER: Duration = Duration::from_secs(2);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, detail) = match &self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, m.clone()),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, m.clone()),
            Self::ConcurrencyLimit(headers) => {
                let body = axum::Json(ConcurrencyLimited::default());
                return (StatusCode::TOO_MANY_REQUESTS, headers.clone(), body).into_response();
            }
            Self::Unavailable { detail, .. } => (StatusCode::SERVICE_UNAVAILABLE, detail.clone()),
            Self::BadGateway(m) => (StatusCode::BAD_GATEWAY, m.clone()),
            // the request's data, not the database: a client error, as in every service
            Self::Postgres(e) if store::pg::refusal(e).is_some() => {
                let refusal = store::pg::refusal(e).expect("checked by the guard");
                (refusal.status(), refusal.to_string())
            }
            Self::Postgres(e) if store::pg::contention(e) => {
                tracing::info!(error = %e, "rolled back after meeting a concurrent transaction");
                let detail = store::pg::CONTENTION_DETAIL.to_owned();
                return Self::Unavailable { detail, retry_after: Some(store::pg::CONTENTION_RETRY_AFTER) }
                    .into_response();
            }
            Self::Postgres(e) if store::pg::unavailable(e) => {
                tracing::warn!(error = %e, "postgres unavailable");
                let detail = "the database is unavailable; retry shortly".to_owned();
                return Self::Unavailable { detail, retry_after: Some(POSTGRES_RETRY_AFTER) }.into_response();
            }
            Self::Postgres(_) | Self::Internal(_) => {
                return Problem::internal(&self);
            }
        };
        let response = Problem::new(status, detail).into_response();
        match self {
            Self::Unavailable { retry_after: Some(after), .. } => platform::problem::with_retry_after(response, after),
            _ => response,
        }
    }
}
