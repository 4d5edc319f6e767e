//! The HTTP skeleton every service shares: request ids, tracing spans, request metrics,
//! liveness/readiness/metrics routes, a problem+json 404, and a server that binds first
//! (port 0 in tests) and then runs until its shutdown token is cancelled.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderName, Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use futures::future::BoxFuture;
use metrics_exporter_prometheus::PrometheusHandle;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::trace_context::TraceContext;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// A fresh UUID v4 for each request without an `x-request-id`, written straight into the
/// header (tower-http's own maker formats it through `Display` and parses it back).
#[derive(Clone, Copy, Debug, Default)]
pub struct MakeRequestUuid;

impl MakeRequestId for MakeRequestUuid {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let id = uuid::Uuid::new_v4().hyphenated().encode_lower(&mut text);
        axum::http::HeaderValue::from_str(id).ok().map(RequestId::new)
    }
}

/// A named dependency check for `/ready`, e.g. "postgres" → `SELECT 1`.
pub type Check = Arc<dyn Fn() -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

/// Builds a [`Check`] from an async closure.
pub fn check<F, Fut>(f: F) -> Check
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send + 'static,
{
    Arc::new(move || Box::pin(f()))
}

/// Whether a dependency's failure takes the service out of rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The service cannot do its core job without it: `/ready` answers 503.
    Required,
    /// Some routes degrade without it (they answer 503 themselves): `/ready` stays 200 and
    /// reports `degraded`, so an orchestrator keeps the working routes in rotation.
    Optional,
}

/// One dependency `/ready` asks about.
#[derive(Clone)]
pub struct ReadyCheck {
    pub name: &'static str,
    pub need: Need,
    pub check: Check,
}

/// A dependency the service cannot work without.
pub fn required(name: &'static str, check: Check) -> ReadyCheck {
    ReadyCheck { name, need: Need::Required, check }
}

/// A dependency some routes need; without it the service is degraded, not down.
pub fn optional(name: &'static str, check: Check) -> ReadyCheck {
    ReadyCheck { name, need: Need::Optional, check }
}

#[derive(Clone)]
struct HealthState {
    checks: Arc<Vec<ReadyCheck>>,
    metrics: PrometheusHandle,
}

/// `/health` (liveness: the process serves), `/ready` (readiness: every dependency asked, each
/// within 2 s; 503 only when a [`Need::Required`] one fails, `degraded` in the body when only
/// optional ones do) and `/metrics`.
pub fn ops_router(checks: Vec<ReadyCheck>, metrics: PrometheusHandle) -> Router {
    let state = HealthState { checks: Arc::new(checks), metrics };
    Router::new()
        .route("/health", get(|| async { Json(json!({ "status": "ok" })) }))
        .route("/ready", get(ready))
        .route(
            "/metrics",
            get(|State(s): State<HealthState>| async move { crate::metrics::render(State(s.metrics)).await }),
        )
        .with_state(state)
}

async fn ready(State(state): State<HealthState>) -> (StatusCode, Json<serde_json::Value>) {
    let runs = state.checks.iter().map(|c| {
        let fut = (c.check)();
        async move {
            let outcome = match tokio::time::timeout(Duration::from_secs(2), fut).await {
                Ok(Ok(())) => Ok(()),
                Ok(Err(e)) => Err(e),
                Err(_) => Err("timed out after 2s".to_owned()),
            };
            (c.name, c.need, outcome)
        }
    });
    let results = futures::future::join_all(runs).await;
    let failed = |need: Need| results.iter().any(|(_, n, r)| *n == need && r.is_err());
    let (status, word) = if failed(Need::Required) {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    } else if failed(Need::Optional) {
        (StatusCode::OK, "degraded")
    } else {
        (StatusCode::OK, "ready")
    };
    let body: serde_json::Map<String, serde_json::Value> = results
        .into_iter()
        .map(|(name, need, r)| {
            let required = need == Need::Required;
            let entry = match r {
                Ok(()) => json!({ "ok": true, "required": required }),
                Err(e) => json!({ "ok": false, "required": required, "error": e }),
            };
            (name.to_owned(), entry)
        })
        .collect();
    (status, Json(json!({ "status": word, "checks": body })))
}

/// Wraps a fully merged router with the cross-cutting layers: request metrics per route,
/// a request id (taken from `x-request-id` or generated), the W3C trace context (continued or
/// started, see [`crate::trace_context`]), a tracing span carrying both, and the id echoed on
/// the response. Unknown routes get a problem+json 404.
pub fn with_common_layers(router: Router) -> Router {
    common_layers(router.fallback(crate::problem::not_found))
}

/// The same layers for a router that brings its own fallback (the gateway's serves the
/// dashboard's files).
pub fn common_layers(router: Router) -> Router {
    common_layers_with(router, None)
}

/// [`common_layers`], with CORS outermost when `cors` is given (the gateway's, so a preflight
/// is answered before anything else runs).
///
/// The layers wrap the router once, as one service, rather than each route through
/// `Router::layer`: that would box every layer around every route and clone the whole boxed
/// stack for each request, which measured about 2.5 µs per request more for these layers on
/// this machine (the gateway's HTTP stack alone: 42k against 46k requests/s). Only the metrics
/// layer stays a route layer, since it labels requests by their matched route.
pub fn common_layers_with(router: Router, cors: Option<tower_http::cors::CorsLayer>) -> Router {
    let routes = router
        .method_not_allowed_fallback(crate::problem::method_not_allowed)
        .route_layer(axum::middleware::from_fn(crate::metrics::track_requests));
    let layered = tower::ServiceBuilder::new()
        .option_layer(cors.map(crate::cors::CrossOriginLayer))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(axum::middleware::from_fn(crate::trace_context::trace_context))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-");
            let trace = req.extensions().get::<TraceContext>().map(TraceContext::trace_id).unwrap_or_default();
            tracing::info_span!("request", method = %req.method(), uri = %req.uri(), request_id = %id, trace_id = %trace)
        }))
        // inside the span, so the log line carries the request and trace ids
        .layer(axum::middleware::map_response(crate::problem::log_internal_errors))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .map_response(axum::response::IntoResponse::into_response)
        .service(routes);
    Router::new().fallback_service(layered)
}

/// Lets the body extractors of `router` read up to `max_bytes` (`MAX_BODY_BYTES`) instead of
/// axum's 2 MiB, so a service reads every body the gateway forwards; past it they answer 413.
pub fn body_limit(router: Router, max_bytes: u64) -> Router {
    router.layer(axum::extract::DefaultBodyLimit::max(usize::try_from(max_bytes).unwrap_or(usize::MAX)))
}

/// Bounds every request of `router` by `deadline` (`SERVER_TIMEOUT`): past it the request's
/// work is dropped (an open transaction rolls back) and the client gets a 504 problem, instead
/// of waiting on a stalled dependency for as long as it stalls.
pub fn with_deadline(router: Router, deadline: Duration) -> Router {
    router.layer(axum::middleware::from_fn(
        move |req: axum::extract::Request, next: axum::middleware::Next| async move {
            match tokio::time::timeout(deadline, next.run(req)).await {
                Ok(response) => response,
                Err(_) => {
                    let detail = format!("the request did not finish within {} s", deadline.as_secs_f64());
                    axum::response::IntoResponse::into_response(crate::problem::Problem::new(
                        StatusCode::GATEWAY_TIMEOUT,
                        detail,
                    ))
                }
            }
        },
    ))
}

/// A bound listener plus the router it will serve.
pub struct Server {
    listener: TcpListener,
    router: Router,
    on_stopped: Option<futures::future::BoxFuture<'static, ()>>,
}

impl Server {
    /// Binds now, so the caller learns the real port (use port 0 in tests) before serving.
    pub async fn bind(addr: &str, router: Router) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot bind {addr}: {e}")))?;
        Ok(Self { listener, router, on_stopped: None })
    }

    /// Work to finish after the last in-flight request, before [`Self::run_until_stopped`]
    /// returns (flushing buffers, releasing queued work).
    pub fn on_stopped(mut self, work: impl std::future::Future<Output = ()> + Send + 'static) -> Self {
        self.on_stopped = Some(Box::pin(work));
        self
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// Serves until `shutdown` is cancelled, then stops accepting, lets in-flight requests
    /// finish, and runs the [`Self::on_stopped`] work.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> std::io::Result<()> {
        let addr = self.local_addr();
        tracing::info!(%addr, "listening");
        // small request/response exchanges: a response's last segment must not wait for the
        // client's acknowledgement of the previous one (Nagle)
        let listener = axum::serve::ListenerExt::tap_io(self.listener, |stream: &mut tokio::net::TcpStream| {
            if let Err(e) = stream.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY not set on an accepted connection");
            }
        });
        let served = axum::serve(listener, self.router.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Some(work) = self.on_stopped {
            work.await;
        }
        served
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    fn app(checks: Vec<ReadyCheck>) -> Router {
        let handle = crate::metrics::install("platform-test");
        with_common_layers(ops_router(checks, handle))
    }

    async fn ready_of(checks: Vec<ReadyCheck>) -> (StatusCode, serde_json::Value) {
        let resp = app(checks).oneshot(Request::get("/ready").body(Body::empty()).unwrap()).await.unwrap();
        assert!(resp.headers().contains_key(REQUEST_ID));
        let status = resp.status();
        (status, serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap())
    }

    fn good() -> Check {
        check(|| async { Ok(()) })
    }

    fn bad() -> Check {
        check(|| async { Err("connection refused".to_owned()) })
    }

    #[tokio::test]
    async fn ready_reports_each_check_and_only_required_ones_fail_it() {
        let (status, body) = ready_of(vec![required("db", good()), optional("cache", good())]).await;
        assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ready")), "{body}");

        let (status, body) = ready_of(vec![required("db", good()), optional("cache", bad())]).await;
        assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("degraded")), "{body}");
        assert_eq!(body["checks"]["db"], json!({"ok": true, "required": true}));
        assert_eq!(body["checks"]["cache"]["error"], "connection refused");
        assert_eq!(body["checks"]["cache"]["required"], false);

        let (status, body) = ready_of(vec![required("db", bad()), optional("cache", good())]).await;
        assert_eq!((status, body["status"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable")));
        assert_eq!(body["checks"]["db"]["ok"], false);
    }

    #[tokio::test]
    async fn request_id_is_propagated_and_unknown_routes_are_problems() {
        let app = app(vec![]);
        let resp = app
            .oneshot(Request::get("/nope").header("x-request-id", "abc-123").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
        assert_eq!(resp.headers()[REQUEST_ID], "abc-123");
        assert_eq!(resp.headers()[http::header::CONTENT_TYPE], crate::problem::CONTENT_TYPE);
    }

    #[tokio::test]
    async fn metrics_count_requests_per_route() {
        let app = app(vec![]);
        let _ = app.clone().oneshot(Request::get("/health").body(Body::empty()).unwrap()).await.unwrap();
        let resp = app.oneshot(Request::get("/metrics").body(Body::empty()).unwrap()).await.unwrap();
        let text = String::from_utf8(resp.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        assert!(text.contains("http_requests_total"), "{text}");
        assert!(text.contains("route=\"/health\""), "{text}");
        assert!(text.contains("le=\"0.0001\""), "sub-millisecond bucket missing: {text}");
    }
}
