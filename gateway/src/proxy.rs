//! The reverse proxy: `/{module}/{*rest}` goes to the module's upstream with the method, path,
//! query, body and (already rewritten) headers, streamed both ways. coffee serves its modules
//! under their own prefixes, so their paths pass unchanged; beat serves its original paths at
//! its root, so `/beat/{*rest}` reaches it as `/{rest}`. Hop-by-hop headers are dropped. An
//! unreachable upstream is a 502, a slow one a 504 at `SERVER_TIMEOUT`.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, Uri};
use axum::response::{IntoResponse, Response};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::error::GatewayError;
use crate::state::AppState;

/// The modules behind this gateway and the upstream serving each.
pub const COFFEE_MODULES: [&str; 3] = ["coffee", "identity", "partners"];
/// beat, the scraping service.
pub const BEAT_MODULE: &str = "beat";

pub type HttpClient = Client<HttpConnector, Body>;

pub fn client() -> HttpClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(Duration::from_secs(10)));
    Client::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(connector)
}

const HOP_BY_HOP: [HeaderName; 7] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::UPGRADE,
];

pub async fn forward(State(state): State<AppState>, mut req: Request) -> Response {
    let module = req.uri().path().trim_start_matches('/').split('/').next().unwrap_or_default().to_owned();
    let path_and_query = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let (what, target) = if COFFEE_MODULES.contains(&module.as_str()) {
        ("coffee", format!("{}{path_and_query}", state.config.coffee_url))
    } else if module == BEAT_MODULE {
        let rest = &path_and_query["/beat".len()..];
        let rest = if rest.starts_with('/') { rest.to_owned() } else { format!("/{rest}") };
        ("beat", format!("{}{rest}", state.config.beat_url))
    } else {
        return GatewayError::UnknownModule(format!("/{module}")).into_response();
    };
    let Ok(uri) = target.parse::<Uri>() else {
        return GatewayError::UnknownModule(path_and_query.to_owned()).into_response();
    };
    *req.uri_mut() = uri;
    for name in &HOP_BY_HOP {
        req.headers_mut().remove(name);
    }
    req.headers_mut().remove(header::HOST);
    let timeout = state.config.server.request_timeout;
    let started = std::time::Instant::now();
    let result = tokio::time::timeout(timeout, state.http.request(req)).await;
    let outcome = match result {
        Ok(Ok(response)) => {
            let (mut parts, body) = response.into_parts();
            for name in &HOP_BY_HOP {
                parts.headers.remove(name);
            }
            Response::from_parts(parts, Body::new(body))
        }
        Ok(Err(e)) => GatewayError::Upstream { what, cause: e.to_string() }.into_response(),
        Err(_) => GatewayError::UpstreamTimeout(what).into_response(),
    };
    metrics::histogram!("gateway_upstream_duration_seconds", "module" => module, "status" => outcome.status().as_u16().to_string())
        .record(started.elapsed().as_secs_f64());
    outcome
}
