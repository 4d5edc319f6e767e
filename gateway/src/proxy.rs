//! The reverse proxy: `/{module}/{*rest}` goes to the module's upstream with the method, path,
//! query, body and (already rewritten) headers, streamed both ways. coffee serves its modules
//! under their own prefixes, so their paths pass unchanged; beat serves its callers' paths at
//! its root, so `/beat/{*rest}` reaches it as `/{rest}` (only the part of beat in
//! [`BEAT_ROUTES`] is routed).
//!
//! On the way: hop-by-hop headers are dropped (the standard ones and any named in
//! `Connection`), `X-Forwarded-For` gets the peer's address and `X-Forwarded-Proto` is set if
//! absent, the request body is capped at `MAX_BODY_BYTES` even when its length was not
//! declared (413), and the injected tenant headers are signed for the module when
//! `TENANT_SIGNING_SECRET` is set. An unreachable upstream is a 502, a slow one a 504 at
//! `SERVER_TIMEOUT`. A response that declares at most 64 KiB is read whole first, so the client
//! gets it in one write (streaming it would cost a second write for the body, the dearest part
//! of proxying a small answer on loopback); larger and undeclared ones stream.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::uri::{Authority, PathAndQuery, Scheme};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use platform::metrics::Handles;

use crate::error::GatewayError;
use crate::state::AppState;

/// The modules coffee serves under their own prefixes.
pub const COFFEE_MODULES: [&str; 3] = ["coffee", "identity", "partners"];
/// beat, the scraping service.
pub const BEAT_MODULE: &str = "beat";
/// What callers of the edge may reach of beat: creator lookups (`/beat/profiles/…`). beat's task
/// queue (`/tasks`, which lists every tenant's targets and enqueues thousands of provider calls
/// at once) stays on the internal network, for operators and coffee: through the edge it is
/// an unknown route.
pub const BEAT_ROUTES: [&str; 1] = ["profiles"];

pub type HttpClient = Client<HttpConnector, Body>;

/// A module's base URL (`COFFEE_URL`, `BEAT_URL`), parsed once so each request's upstream URI
/// is assembled from parts instead of formatted and parsed again.
#[derive(Debug, Clone)]
pub struct Upstream {
    scheme: Scheme,
    authority: Authority,
    /// The base URL's own path, without a trailing slash: usually empty.
    base_path: String,
}

impl Upstream {
    /// `None` unless `url` is an absolute URL with a scheme and a host.
    pub fn parse(url: &str) -> Option<Self> {
        let uri: Uri = url.parse().ok()?;
        let base_path = uri.path().trim_end_matches('/').to_owned();
        let parts = uri.into_parts();
        Some(Self { scheme: parts.scheme?, authority: parts.authority?, base_path })
    }

    /// The upstream URI of `path_and_query` (which starts with `/`).
    fn uri(&self, path_and_query: PathAndQuery) -> Option<Uri> {
        let path_and_query = if self.base_path.is_empty() {
            path_and_query
        } else {
            format!("{}{}", self.base_path, path_and_query.as_str()).parse().ok()?
        };
        let mut parts = axum::http::uri::Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(path_and_query);
        Uri::from_parts(parts).ok()
    }
}

/// Where each kind of module is served.
#[derive(Debug, Clone)]
pub struct Upstreams {
    pub coffee: Upstream,
    pub beat: Upstream,
}

pub fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(10)));
    Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector)
}

const HOP_BY_HOP: [HeaderName; 8] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// Removes the hop-by-hop headers: the standard ones and every header `Connection` names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // most messages carry none: one pass over the names (compared, not hashed) tells, and the
    // names listed in `Connection` only matter when `Connection` itself is there
    if !headers.keys().any(|name| HOP_BY_HOP.contains(name)) {
        return;
    }
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in named.iter().chain(&HOP_BY_HOP) {
        headers.remove(name);
    }
}

fn forwarded_for(headers: &mut HeaderMap, peer: Option<SocketAddr>) {
    if let Some(peer) = peer {
        let mut value = String::with_capacity(64);
        if let Some(earlier) = headers.get(&X_FORWARDED_FOR).and_then(|v| v.to_str().ok()) {
            if !earlier.trim().is_empty() {
                value.push_str(earlier);
                value.push_str(", ");
            }
        }
        push_ip(&mut value, peer.ip());
        if let Ok(v) = HeaderValue::try_from(value) {
            headers.insert(X_FORWARDED_FOR, v);
        }
    }
    if !headers.contains_key(&X_FORWARDED_PROTO) {
        headers.insert(X_FORWARDED_PROTO, HeaderValue::from_static("http"));
    }
}

/// Appends `ip` as text; an IPv4 address (the usual peer) without the formatting machinery.
fn push_ip(out: &mut String, ip: std::net::IpAddr) {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let mut digits = itoa::Buffer::new();
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                out.push_str(digits.format(octet));
            }
        }
        std::net::IpAddr::V6(v6) => out.push_str(&v6.to_string()),
    }
}

/// Responses up to this size (declared by `Content-Length`) are read whole before they are
/// answered; larger or undeclared ones stream.
const BUFFERED_RESPONSE_MAX: u64 = 64 * 1024;

/// The body length a message declares, if it declares one.
pub(crate) fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

fn is_length_limit(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cause {
        if e.is::<LengthLimitError>() {
            return true;
        }
        cause = e.source();
    }
    false
}

pub async fn forward(State(state): State<AppState>, req: Request) -> Response {
    let first = req.uri().path().trim_start_matches('/').split('/').next().unwrap_or_default();
    let Some(module) = COFFEE_MODULES.iter().chain([&BEAT_MODULE]).copied().find(|m| *m == first) else {
        return GatewayError::UnknownModule(format!("/{first}")).into_response();
    };
    let path_and_query = req.uri().path_and_query().cloned().unwrap_or_else(|| PathAndQuery::from_static("/"));
    let (what, upstream, upstream_path) = if module != BEAT_MODULE {
        // coffee serves its modules under their own prefixes: the path passes unchanged
        ("coffee", &state.upstreams.coffee, Some(path_and_query.clone()))
    } else {
        let rest = &path_and_query.as_str()["/beat".len()..];
        let rest = if rest.starts_with('/') { rest.parse().ok() } else { format!("/{rest}").parse().ok() };
        ("beat", &state.upstreams.beat, rest)
    };
    let Some(uri) = upstream_path.and_then(|p| upstream.uri(p)) else {
        return GatewayError::UnknownModule(path_and_query.as_str().to_owned()).into_response();
    };
    let peer = req.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0);
    let (mut parts, body) = req.into_parts();
    parts.uri = uri;
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(header::HOST);
    forwarded_for(&mut parts.headers, peer);
    if let Some(key) = &state.config.tenant_signing_key {
        let signed = parts.uri.path_and_query().map_or("/", PathAndQuery::as_str);
        key.sign(chrono::Utc::now().timestamp(), &parts.method, signed, &mut parts.headers);
    }
    let limit = usize::try_from(state.config.server.max_body_bytes).unwrap_or(usize::MAX);
    let req = Request::from_parts(parts, Body::new(Limited::new(body, limit)));

    let started = std::time::Instant::now();
    let exchange = async {
        let response = state.http.request(req).await.map_err(Box::<dyn std::error::Error + Send + Sync>::from)?;
        let (mut parts, body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        let body = if declared_length(&parts.headers).is_some_and(|n| n <= BUFFERED_RESPONSE_MAX) {
            // read whole, so the client gets head and body in one write, as a buffering proxy does
            Body::from(body.collect().await?.to_bytes())
        } else {
            Body::new(body)
        };
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(Response::from_parts(parts, body))
    };
    let outcome = match tokio::time::timeout(state.config.server.request_timeout, exchange).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) if is_length_limit(&*e) => {
            GatewayError::PayloadTooLarge(state.config.server.max_body_bytes).into_response()
        }
        Ok(Err(e)) => GatewayError::Upstream { what, cause: platform::problem::error_chain(&*e) }.into_response(),
        Err(_) => GatewayError::UpstreamTimeout(what).into_response(),
    };
    UPSTREAM.with(module, outcome.status().as_u16(), |(latency, count)| {
        latency.record(started.elapsed().as_secs_f64());
        count.increment(1);
    });
    outcome
}

static UPSTREAM: Handles<u16, (metrics::Histogram, metrics::Counter)> = Handles::new(|module, status| {
    let labels = [("module", module.to_owned()), ("status", status.to_string())];
    (
        metrics::histogram!("gateway_upstream_duration_seconds", &labels),
        metrics::counter!("gateway_upstream_responses_total", &labels),
    )
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_those_connection_names_are_dropped() {
        let mut h = HeaderMap::new();
        h.insert(header::CONNECTION, "keep-alive, X-Secret-Hop".parse().unwrap());
        h.insert("x-secret-hop", "1".parse().unwrap());
        h.insert(header::TE, "trailers".parse().unwrap());
        h.insert(header::UPGRADE, "websocket".parse().unwrap());
        h.insert("x-request-id", "r".parse().unwrap());
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key("x-request-id"));
    }

    #[test]
    fn forwarded_headers_append_the_peer() {
        let mut h = HeaderMap::new();
        forwarded_for(&mut h, Some("10.0.0.9:5000".parse().unwrap()));
        assert_eq!(
            (h[&X_FORWARDED_FOR].to_str().unwrap(), h[&X_FORWARDED_PROTO].to_str().unwrap()),
            ("10.0.0.9", "http")
        );
        let mut h = HeaderMap::new();
        h.insert(X_FORWARDED_FOR, "1.2.3.4".parse().unwrap());
        h.insert(X_FORWARDED_PROTO, "https".parse().unwrap());
        forwarded_for(&mut h, Some("10.0.0.9:5000".parse().unwrap()));
        assert_eq!(h[&X_FORWARDED_FOR], "1.2.3.4, 10.0.0.9");
        assert_eq!(h[&X_FORWARDED_PROTO], "https");
        forwarded_for(&mut h, Some("[2001:db8::1]:443".parse().unwrap()));
        assert_eq!(h[&X_FORWARDED_FOR], "1.2.3.4, 10.0.0.9, 2001:db8::1");
        let mut h = HeaderMap::new();
        forwarded_for(&mut h, Some("255.0.10.1:1".parse().unwrap()));
        assert_eq!(h[&X_FORWARDED_FOR], "255.0.10.1");
    }
}
