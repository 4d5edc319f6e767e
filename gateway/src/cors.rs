//! CORS for the browser dashboard and partners' own front ends: only the origins in
//! `CORS_ORIGINS` are allowed. The layer sits outside authentication, so a preflight
//! (`OPTIONS` with `Access-Control-Request-Method`) is answered without a token, as browsers
//! send none. Tokens travel in `Authorization`, not cookies, so credentials are not allowed.
//! Requests without `Origin` (not cross-origin) skip the policy and only get its `Vary`
//! ([`platform::cors`]).

use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

pub fn layer(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins.iter().filter_map(|o| o.parse().ok()).collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            tenancy::CLIENT_ID,
            tenancy::CLIENT_TYPE,
            tenancy::DEVICE_ID,
            platform::trace_context::TRACEPARENT,
            platform::http::REQUEST_ID,
        ])
        .expose_headers([
            HeaderName::from_static("ratelimit"),
            HeaderName::from_static("ratelimit-policy"),
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
            platform::http::REQUEST_ID,
        ])
        .max_age(Duration::from_secs(600))
}
