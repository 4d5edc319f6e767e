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
        Self { kind, title, status: status.as_u16(), detail: Some(detail.into()) }
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

/// Fallback for unknown routes: a 404 problem instead of an empty body.
pub async fn not_found() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "no such route")
}

/// An error and all its causes, `: `-separated: what a 500's log line or an upstream failure's
/// detail should say.
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
