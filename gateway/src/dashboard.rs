//! The partner dashboard's files, served from the gateway's own origin so the browser app calls
//! the API without CORS and with the same edge rules as every other client.
//!
//! Everything no module route claims falls through to here:
//! - a file of the built dashboard (`DASHBOARD_DIR`) is served, precompressed (`.br`, `.gz`
//!   beside it) when the browser accepts it; the hashed files under `/assets/` are cached for
//!   a year (`immutable`: a new build has new names), everything else is revalidated
//!   (`no-cache`), so a deploy is picked up on the next load;
//! - a page navigation (`Accept: text/html`) to any other path gets `index.html`: the app
//!   routes in the browser (history API), so `/p/instagram/12` can be shared and reloaded;
//! - anything else (an API client's typo) stays a problem+json 404.
//!
//! Pages carry a strict Content-Security-Policy (scripts from this origin only).

use std::convert::Infallible;
use std::path::Path;

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{self, HeaderValue};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");
const CSP: HeaderValue = HeaderValue::from_static(
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
);

/// Installs the fallback: the dashboard when `dir` is set, a problem+json 404 otherwise.
pub fn fallback(router: Router, dir: Option<&Path>) -> Router {
    let Some(dir) = dir else {
        return router.fallback(platform::problem::not_found);
    };
    let index = dir.join("index.html");
    let page_or_404 = tower::service_fn(move |req: Request| {
        let index = index.clone();
        async move {
            if !wants_page(&req) {
                return Ok::<_, Infallible>(platform::problem::not_found().await.into_response());
            }
            let page = ServeFile::new(index).precompressed_br().precompressed_gzip();
            Ok(page.oneshot(req).await.map_or_else(|e| match e {}, IntoResponse::into_response))
        }
    });
    let files = ServeDir::new(dir)
        .precompressed_br()
        .precompressed_gzip()
        .call_fallback_on_method_not_allowed(true)
        .fallback(page_or_404);
    let files = Router::new().fallback_service(files).layer(axum::middleware::from_fn(headers));
    router.fallback_service(files)
}

/// A browser navigation: a GET or HEAD that asks for HTML.
fn wants_page(req: &Request) -> bool {
    let accepts_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"));
    accepts_html && matches!(*req.method(), axum::http::Method::GET | axum::http::Method::HEAD)
}

/// Cache and security headers by what was served.
async fn headers(req: Request, next: Next) -> Response {
    let hashed = req.uri().path().starts_with("/assets/");
    let mut resp: Response<Body> = next.run(req).await;
    let ok = resp.status().is_success() || resp.status() == StatusCode::NOT_MODIFIED;
    let is_problem =
        resp.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if is_problem {
        return resp;
    }
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, if ok && hashed { IMMUTABLE } else { REVALIDATE });
    // the same URL is served as brotli, gzip or plain bytes, by what the client accepts
    h.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if h.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html")) {
        h.insert(header::CONTENT_SECURITY_POLICY, CSP);
    }
    resp
}
