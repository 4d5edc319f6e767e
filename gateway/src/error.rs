//! The gateway's errors, each an `application/problem+json` response. Upstream failures are
//! 502/504 with the cause logged, never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use platform::problem::Problem;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("no module is served at {0}")]
    UnknownModule(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("upstream {what} failed: {cause}")]
    Upstream { what: &'static str, cause: String },
    #[error("upstream {0} did not answer in time")]
    UpstreamTimeout(&'static str),
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let (status, detail) = match &self {
            Self::Unauthorized(m) => (StatusCode::UNAUTHORIZED, m.clone()),
            Self::UnknownModule(_) => (StatusCode::NOT_FOUND, self.to_string()),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
            Self::Upstream { what, .. } => {
                tracing::error!(error = %self, "upstream failure");
                (StatusCode::BAD_GATEWAY, format!("the {what} service is unavailable; retry shortly"))
            }
            Self::UpstreamTimeout(_) => (StatusCode::GATEWAY_TIMEOUT, self.to_string()),
        };
        Problem::new(status, detail).into_response()
    }
}
