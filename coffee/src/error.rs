//! coffee's one error type. Every failure becomes an `application/problem+json` response with
//! the right status: client mistakes say what to fix; constraint violations map to 409/422;
//! anything internal is a 500 whose cause is logged but never sent.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::problem::Problem;

use crate::core::error::{StoreError, StoreFailure};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    PaymentRequired(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A body names a resource that does not exist, while the path's resource does: a 404 of its
    /// own problem type (`…/problems/target-not-found`), so a client tells it from "no such
    /// collection".
    #[error("{0}")]
    TargetNotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A dependency is saturated; the client may retry (503).
    #[error("{0}")]
    Unavailable(String),
    #[error("the request did not finish within {0} s")]
    Timeout(u64),
    /// The storage layer failed; what that means for the client is decided in `classify`.
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Turns the violation of one named constraint into the error the caller means by it ("you
/// already have a collection named …"), so services name constraints instead of matching
/// SQLSTATE codes; any other error passes unchanged (and a violation nobody named is still a
/// 409/422 through [`store::pg::refusal`]).
pub trait ResultExt<T> {
    fn on_constraint(self, name: &str, map: impl FnOnce() -> ApiError) -> ApiResult<T>;
}

impl<T, E: Into<ApiError>> ResultExt<T> for Result<T, E> {
    fn on_constraint(self, name: &str, map: impl FnOnce() -> ApiError) -> ApiResult<T> {
        self.map_err(Into::into).map_err(|e| match &e {
            ApiError::Store(StoreError::Postgres(sqlx::Error::Database(db))) if db.constraint() == Some(name) => map(),
            _ => e,
        })
    }
}

/// Repositories return sqlx's errors; inside a service they are the storage layer's.
impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(e.into())
    }
}

impl From<clickhouse::error::Error> for ApiError {
    fn from(e: clickhouse::error::Error) -> Self {
        Self::Store(e.into())
    }
}

/// A store could not be reached or did not answer in time (as opposed to refusing a
/// statement): what counts against a store's breaker.
impl StoreFailure for ApiError {
    fn is_outage(&self) -> bool {
        matches!(self, Self::Store(e) if e.is_outage())
    }
}

impl ApiError {
    pub fn not_found(what: impl std::fmt::Display) -> Self {
        Self::NotFound(format!("{what} not found"))
    }

    /// Status and client-facing detail; `None` detail means "internal, do not disclose".
    fn classify(&self) -> (StatusCode, Option<String>) {
        match self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, Some(m.clone())),
            Self::Unauthorized(m) => (StatusCode::UNAUTHORIZED, Some(m.clone())),
            Self::PaymentRequired(m) => (StatusCode::PAYMENT_REQUIRED, Some(m.clone())),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, Some(m.clone())),
            Self::NotFound(m) | Self::TargetNotFound(m) => (StatusCode::NOT_FOUND, Some(m.clone())),
            Self::Conflict(m) => (StatusCode::CONFLICT, Some(m.clone())),
            Self::Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, Some(m.clone())),
            Self::UnsupportedMediaType(m) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some(m.clone())),
            Self::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, Some(m.clone())),
            Self::Timeout(_) => (StatusCode::GATEWAY_TIMEOUT, Some(self.to_string())),
            Self::Store(e) => e.classify(),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, None),
        }
    }
}

impl StoreError {
    /// What a storage failure means for the client: a refused statement is the request's
    /// fault (409/422), a bad search 400, an unavailable store 503 naming it; the rest is
    /// internal.
    fn classify(&self) -> (StatusCode, Option<String>) {
        match self {
            Self::Postgres(e) => match store::pg::refusal(e) {
                Some(refusal) => (refusal.status(), Some(refusal.to_string())),
                None if matches!(e, sqlx::Error::PoolTimedOut) => {
                    (StatusCode::SERVICE_UNAVAILABLE, Some("the database is busy; retry shortly".into()))
                }
                None if store::pg::unavailable(e) => {
                    (StatusCode::SERVICE_UNAVAILABLE, Some("the database is unavailable; retry shortly".into()))
                }
                None if store::pg::contention(e) => {
                    (StatusCode::SERVICE_UNAVAILABLE, Some(store::pg::CONTENTION_DETAIL.into()))
                }
                None => (StatusCode::INTERNAL_SERVER_ERROR, None),
            },
            Self::ClickHouse(e) if store::ch::unreachable(e) => {
                (StatusCode::SERVICE_UNAVAILABLE, Some("the analytics store is unavailable; retry shortly".into()))
            }
            Self::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, Some(self.to_string())),
            Self::InvalidQuery(m) => (StatusCode::BAD_REQUEST, Some(m.clone())),
            Self::ClickHouse(_) | Self::Misuse(_) => (StatusCode::INTERNAL_SERVER_ERROR, None),
        }
    }
}

/// The problem type of [`ApiError::TargetNotFound`].
pub const TARGET_NOT_FOUND: &str = "https://bulbul.dev/problems/target-not-found";

/// How long a client should wait before retrying an unavailable dependency.
const RETRY_AFTER: std::time::Duration = std::time::Duration::from_secs(5);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, detail) = self.classify();
        let Some(detail) = detail else { return Problem::internal(&self) };
        let mut problem = Problem::new(status, detail);
        if let Self::TargetNotFound(_) = self {
            problem.kind = TARGET_NOT_FOUND.to_owned();
            "Target Not Found".clone_into(&mut problem.title);
        }
        let mut resp = problem.into_response();
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        if status != StatusCode::SERVICE_UNAVAILABLE {
            return resp;
        }
        if let Self::Store(StoreError::Postgres(e)) = &self {
            if store::pg::contention(e) {
                tracing::info!(error = %e, "rolled back after meeting a concurrent transaction");
                return platform::problem::with_retry_after(resp, store::pg::CONTENTION_RETRY_AFTER);
            }
        }
        tracing::warn!(error = %self, "dependency unavailable");
        platform::problem::with_retry_after(resp, RETRY_AFTER)
    }
}

impl From<tenancy::TenancyError> for ApiError {
    fn from(e: tenancy::TenancyError) -> Self {
        Self::BadRequest(e.to_string())
    }
}

/// The request extractors, with problem+json rejections (shared by every service).
pub use platform::extract::{Json, Path, Query};
