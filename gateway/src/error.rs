//! The gateway's errors, each an `application/problem+json` response. A 401 says which check
//! failed (without internals) and carries `WWW-Authenticate: Bearer`; a 429 carries the limit
//! headers and `Retry-After`; upstream failures are 502/504 with the cause logged, never shown.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use platform::problem::Problem;

/// Why a caller is not authenticated, in the words the client gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthFailure {
    Missing,
    Malformed,
    BadSignature,
    Expired,
    NotYetValid,
    Revoked,
    KeyMalformed,
    KeyMistyped,
    KeyUnknown,
    KeyRevoked,
    KeyExpired,
    KeyPartnerInactive,
}

impl AuthFailure {
    pub fn detail(self) -> &'static str {
        match self {
            Self::Missing => "log in first: send Authorization: Bearer <token>",
            Self::Malformed => "the bearer token is malformed",
            Self::BadSignature => "the bearer token's signature is not valid",
            Self::Expired => "the bearer token has expired",
            Self::NotYetValid => "the bearer token is not valid yet",
            Self::Revoked => "the session has ended (logged out or expired)",
            Self::KeyMalformed => "the API key is malformed",
            Self::KeyMistyped => "the API key's checksum does not match: it was mistyped or cut short",
            Self::KeyUnknown => "no such API key",
            Self::KeyRevoked => "the API key has been revoked",
            Self::KeyExpired => "the API key has expired",
            Self::KeyPartnerInactive => "the API key's partner is not active",
        }
    }

    /// The RFC 6750 error code.
    fn code(self) -> &'static str {
        match self {
            Self::Missing => "",
            _ => "invalid_token",
        }
    }

    /// Whether this is an API key's refusal (those count against the client's IP).
    pub fn is_key(self) -> bool {
        matches!(
            self,
            Self::KeyMalformed
                | Self::KeyMistyped
                | Self::KeyUnknown
                | Self::KeyRevoked
                | Self::KeyExpired
                | Self::KeyPartnerInactive
        )
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::BadSignature => "bad_signature",
            Self::Expired => "expired",
            Self::NotYetValid => "not_yet_valid",
            Self::Revoked => "revoked",
            Self::KeyMalformed => "key_malformed",
            Self::KeyMistyped => "key_mistyped",
            Self::KeyUnknown => "key_unknown",
            Self::KeyRevoked => "key_revoked",
            Self::KeyExpired => "key_expired",
            Self::KeyPartnerInactive => "key_partner_inactive",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("{}", .0.detail())]
    Unauthorized(AuthFailure),
    #[error("no module is served at {0}")]
    UnknownModule(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    PaymentRequired(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(u64),
    #[error("too many requests")]
    RateLimited(ratelimit::Rejected),
    /// A dependency is known to be down (open breaker): 503 at once, with `Retry-After`.
    #[error("the {what} service is unavailable; retry in {} s", retry_after.as_secs().max(1))]
    Unavailable { what: &'static str, retry_after: std::time::Duration },
    #[error("upstream {what} failed: {cause}")]
    Upstream { what: &'static str, cause: String },
    #[error("upstream {0} did not answer in time")]
    UpstreamTimeout(&'static str),
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let (status, detail) = match &self {
            Self::Unauthorized(why) => {
                metrics::counter!("gateway_auth_failures_total", "reason" => why.label()).increment(1);
                let mut response = Problem::new(StatusCode::UNAUTHORIZED, why.detail()).into_response();
                let challenge = match why.code() {
                    "" => "Bearer".to_owned(),
                    code => format!("Bearer error=\"{code}\", error_description=\"{}\"", why.detail()),
                };
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
                }
                return response;
            }
            Self::RateLimited(rejected) => {
                let detail = format!(
                    "the {} limit is exhausted; retry in {} s",
                    rejected.level,
                    rejected.retry_after.as_secs_f64().ceil() as u64
                );
                let mut response = Problem::new(StatusCode::TOO_MANY_REQUESTS, detail).into_response();
                ratelimit::Decision::Rejected(rejected.clone()).headers().write_to(&mut response);
                return response;
            }
            Self::Unavailable { retry_after, .. } => {
                let response = Problem::new(StatusCode::SERVICE_UNAVAILABLE, self.to_string()).into_response();
                return platform::problem::with_retry_after(response, *retry_after);
            }
            Self::UnknownModule(_) => (StatusCode::NOT_FOUND, self.to_string()),
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, m.clone()),
            Self::PaymentRequired(m) => (StatusCode::PAYMENT_REQUIRED, m.clone()),
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, self.to_string()),
            Self::Upstream { what, .. } => {
                tracing::error!(error = %self, "upstream failure");
                (StatusCode::BAD_GATEWAY, format!("the {what} service is unavailable; retry shortly"))
            }
            Self::UpstreamTimeout(_) => (StatusCode::GATEWAY_TIMEOUT, self.to_string()),
        };
        Problem::new(status, detail).into_response()
    }
}
