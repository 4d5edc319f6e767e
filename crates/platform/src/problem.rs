//! RFC 9457 problem details (`application/problem+json`), the one error body shape every
//! service returns, including for rejected JSON and unknown routes.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

pub const CONTENT_TYPE: &str = "application/problem+json";

/// An error body: `type` and `title` identify the kind of problem, `detail` explains this
/// occurrence in words a client developer can act on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        let title = status.canonical_reason().unwrap_or("Error").to_owned();
        let kind = format!("https://bulbul.dev/problems/{}", title.to_ascii_lowercase().replace(' ', "-"));
        Self { kind, title, status: status.as_u16(), detail: Some(capped(detail.into())) }
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (status, [(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response()
    }
}

/// The answer for a route that exists but does not take the method: a problem like every
/// other (axum adds the route's `Allow`). Installed by the common layers for every route, so
/// only a 405 pays for it.
pub async fn method_not_allowed() -> Problem {
    Problem::new(StatusCode::METHOD_NOT_ALLOWED, "this route does not take this method (see Allow)")
}

/// The longest detail an answer carries: details quote the input they refuse, and a client
/// that sends 100 KB of it does not get it back.
const DETAIL_MAX_CHARS: usize = 500;

fn capped(mut detail: String) -> String {
    if let Some((cut, _)) = detail.char_indices().nth(DETAIL_MAX_CHARS) {
        detail.truncate(cut);
        detail.push('…');
    }
    detail
}

/// `response` with `Retry-After: after` in whole seconds, rounded up and at least 1 (what every
/// service's 503 says about when to come back).
pub fn with_retry_after(mut response: Response, after: std::time::Duration) -> Response {
    let secs = (after.as_secs() + u64::from(after.subsec_nanos() > 0)).max(1);
    response.headers_mut().insert(header::RETRY_AFTER, secs.into());
    response
}

/// Fallback for unknown routes: a 404 problem instead of an empty body.
pub async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "no such route")
}

/// An error and all its causes, `: `-separated: what a 500's log line or an upstream failure's
/// detail should say. A cause whose text its error already ends with (`postgres: {0}` over the
/// sqlx error) is not repeated.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(e) = cause {
        let said = e.to_string();
        if !text.ends_with(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        cause = e.source();
    }
    text
}

/// The whole cause chain of an internal error, carried on its 500 response (never in the body)
/// to [`log_internal_errors`], which logs it inside the request's span: one place where every
/// service logs its 500s, with request and trace ids, as the axum error-handling example does.
#[derive(Debug, Clone)]
pub struct InternalCause(pub std::sync::Arc<str>);

impl Problem {
    /// The 500 for an internal error: a detail that discloses nothing, and `cause`'s whole chain
    /// attached for the log.
    pub fn internal(cause: &dyn std::error::Error) -> Response {
        let mut response =
            Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "an internal error occurred; it has been logged")
                .into_response();
        response.extensions_mut().insert(InternalCause(error_chain(cause).into()));
        response
    }
}

/// Logs the cause a 500 carries ([`Problem::internal`]) at error level; part of every service's
/// common layers.
pub async fn log_internal_errors(response: Response) -> Response {
    if let Some(InternalCause(cause)) = response.extensions().get::<InternalCause>() {
        tracing::error!(status = response.status().as_u16(), cause = %cause, "internal error");
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_capped_and_a_wrong_method_is_a_problem() {
        let long = Problem::new(StatusCode::BAD_REQUEST, format!("unknown field `{}`", "ü".repeat(5000)));
        let detail = long.detail.unwrap();
        assert_eq!(detail.chars().count(), DETAIL_MAX_CHARS + 1);
        assert!(detail.ends_with('…'));
        let short = Problem::new(StatusCode::BAD_REQUEST, "fine");
        assert_eq!(short.detail.as_deref(), Some("fine"));

        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let problem = rt.block_on(method_not_allowed()).into_response();
        assert_eq!(problem.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(problem.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
    }

    #[test]
    fn retry_after_is_whole_seconds_rounded_up_and_at_least_one() {
        use std::time::Duration;
        for (after, want) in [(Duration::ZERO, "1"), (Duration::from_millis(1200), "2"), (Duration::from_secs(5), "5")]
        {
            let response = with_retry_after(Problem::new(StatusCode::SERVICE_UNAVAILABLE, "x").into_response(), after);
            assert_eq!(response.headers()[header::RETRY_AFTER], want, "{after:?}");
        }
    }

    #[test]
    fn serializes_as_problem_json() {
        let p = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "name is too long");
        let v: serde_json::Value = serde_json::to_value(&p).unwrap();
        assert_eq!(v["status"], 422);
        assert_eq!(v["title"], "Unprocessable Entity");
        assert_eq!(v["type"], "https://bulbul.dev/problems/unprocessable-entity");
        assert_eq!(v["detail"], "name is too long");
        let resp = p.into_response();
        assert_eq!(resp.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }

    #[derive(Debug, thiserror::Error)]
    #[error("postgres: {0}")]
    struct Outer(#[source] Inner);
    #[derive(Debug, thiserror::Error)]
    #[error("connection reset by peer")]
    struct Inner;

    #[tokio::test]
    async fn an_internal_error_carries_its_whole_chain_for_the_log_and_discloses_none_of_it() {
        let err = anyhow::Error::from(Outer(Inner)).context("saving the collection");
        let resp = Problem::internal(err.as_ref());
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let cause = resp.extensions().get::<InternalCause>().expect("the cause rides on the response");
        // each cause once, though the outer message already quotes the inner one
        assert_eq!(&*cause.0, "saving the collection: postgres: connection reset by peer");
        let body = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&body);
        assert!(body.contains("it has been logged") && !body.contains("postgres"), "{body}");
    }
}
