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
                (StatusCode::UNPROCESSABLE_ENTITY, format!("invalid body: {}", plain(&e.body_text())))
            }
            JsonRejection::JsonSyntaxError(e) => {
                (StatusCode::BAD_REQUEST, format!("malformed JSON: {}", plain(&e.body_text())))
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
        Self(Problem::new(StatusCode::BAD_REQUEST, format!("invalid query string: {}", plain(&r.body_text()))))
    }
}

impl From<PathRejection> for Rejection {
    fn from(r: PathRejection) -> Self {
        Self(Problem::new(StatusCode::BAD_REQUEST, format!("invalid path: {}", plain(&r.body_text()))))
    }
}

/// A rejection's text in a client's words: without axum's preamble and with JSON's names for
/// the Rust types serde expected (`expected u32` → `expected a whole number`).
fn plain(text: &str) -> String {
    let mut text = text.to_owned();
    for preamble in [
        "Failed to deserialize the JSON body into the target type: ",
        "Failed to parse the request body as JSON: ",
        "Failed to deserialize query string: ",
        "Invalid URL: ",
    ] {
        text = text.replace(preamble, "");
    }
    for (rust, json) in [
        ("expected u8", "expected a whole number"),
        ("expected u16", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected i16", "expected a whole number"),
        ("expected i32", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("to a `i64`", "to a whole number"),
        ("to a `i32`", "to a whole number"),
        ("to a `u32`", "to a whole number"),
        ("to a `u64`", "to a whole number"),
    ] {
        text = text.replace(rust, json);
    }
    // `expected struct SearchRequest` and its like name a Rust type, not anything the client sent
    if let Some(at) = text.find("expected struct ") {
        text = format!("{}expected a JSON object", &text[..at]);
    }
    text
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

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn rejections_read_in_json_terms() {
        assert_eq!(
            plain("Failed to deserialize the JSON body into the target type: size: invalid type: string \"10\", expected u32 at line 1 column 12"),
            "size: invalid type: string \"10\", expected a whole number at line 1 column 12"
        );
        assert_eq!(
            plain("Failed to deserialize the JSON body into the target type: invalid length 1, expected struct SearchRequest with 4 elements"),
            "invalid length 1, expected a JSON object"
        );
        assert_eq!(plain("Invalid URL: Cannot parse `abc` to a `i64`"), "Cannot parse `abc` to a whole number");
    }
}
