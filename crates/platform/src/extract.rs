//! axum's `Json`, `Query` and `Path` extractors with problem+json rejections, for every
//! service: a body, query string or path segment that does not parse is a 400 (malformed), 415
//! (not JSON) or 422 (well-formed but wrong shape) problem that says what to fix, never axum's
//! plain-text rejection.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::problem::Problem;

/// Why a request could not be read, as a problem.
#[derive(Debug)]
pub struct Rejection(pub Problem);

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}

impl From<JsonRejection> for Rejection {
    fn from(r: JsonRejection) -> Self {
        let (status, detail) = match r {
            JsonRejection::JsonDataError(e) => {
                (StatusCode::UNPROCESSABLE_ENTITY, format!("invalid body: {}", e.body_text()))
            }
            JsonRejection::JsonSyntaxError(e) => {
                (StatusCode::BAD_REQUEST, format!("malformed JSON: {}", e.body_text()))
            }
            JsonRejection::MissingJsonContentType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "send the body as application/json".to_owned())
            }
            // axum's body limit (`MAX_BODY_BYTES`, see `http::body_limit`)
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                (StatusCode::PAYLOAD_TOO_LARGE, "the request body is larger than this service reads".to_owned())
            }
            other => (StatusCode::BAD_REQUEST, other.body_text()),
        };
        Self(Problem::new(status, detail))
    }
}

impl From<QueryRejection> for Rejection {
    fn from(r: QueryRejection) -> Self {
        Self(Problem::new(StatusCode::BAD_REQUEST, format!("invalid query string: {}", r.body_text())))
    }
}

impl From<PathRejection> for Rejection {
    fn from(r: PathRejection) -> Self {
        Self(Problem::new(StatusCode::BAD_REQUEST, format!("invalid path: {}", r.body_text())))
    }
}

/// `axum::Json` whose rejections are problems; also a JSON response.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(Rejection))]
pub struct Json<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` whose rejections are problems.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Rejection))]
pub struct Query<T>(pub T);

/// `axum::extract::Path` whose rejections are problems.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Rejection))]
pub struct Path<T>(pub T);
