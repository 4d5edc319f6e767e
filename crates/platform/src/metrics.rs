//! Prometheus metrics: one process-wide recorder, the `/metrics` handler and the request
//! metrics middleware.
//!
//! Latency histograms use buckets from 100 µs to 30 s, so both cache hits and slow analytics
//! show up in the same series.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Bucket bounds (seconds) for every `*_duration_seconds` histogram.
pub const LATENCY_BUCKETS: &[f64] =
    &[0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the global recorder (once per process) labelled with the service name, and starts
/// its upkeep task. Returns the handle that renders the exposition text.
pub fn install(service: &'static str) -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .add_global_label("service", service)
                .set_buckets_for_metric(Matcher::Suffix("_duration_seconds".to_owned()), LATENCY_BUCKETS)
                .expect("bucket list is non-empty")
                .install_recorder()
                .expect("no other metrics recorder is installed");
            let upkeep = handle.clone();
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                rt.spawn(async move {
                    let mut tick = tokio::time::interval(Duration::from_secs(5));
                    loop {
                        tick.tick().await;
                        upkeep.run_upkeep();
                    }
                });
            }
            handle
        })
        .clone()
}

/// `GET /metrics` in the Prometheus text format.
pub async fn render(State(handle): State<PrometheusHandle>) -> impl IntoResponse {
    ([(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle.render())
}

/// Records `http_requests_total` and `http_request_duration_seconds` per route template
/// (not per raw path, so ids do not explode the label space).
pub async fn track_requests(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().cloned();
    let response = next.run(req).await;
    let key = RequestKey { method, status: response.status().as_u16() };
    let route = route.as_ref().map_or("unmatched", MatchedPath::as_str);
    REQUESTS.with(route, key, |(count, latency)| {
        count.increment(1);
        latency.record(started.elapsed().as_secs_f64());
    });
    response
}

#[derive(Clone, PartialEq, Eq, Hash)]
struct RequestKey {
    method: http::Method,
    status: u16,
}

static REQUESTS: Handles<RequestKey, (metrics::Counter, metrics::Histogram)> = Handles::new(|route, key| {
    let labels = [("method", key.method.to_string()), ("route", route.to_owned()), ("status", key.status.to_string())];
    (metrics::counter!("http_requests_total", &labels), metrics::histogram!("http_request_duration_seconds", &labels))
});

/// Metric handles by a name (e.g. a route or a module) and a small key (e.g. method and
/// status), registered on first use and reused, so a hot path formats and allocates no labels
/// and skips the recorder's registry. Register only after the recorder is installed (first
/// use happens while serving, so it is).
pub struct Handles<K, H> {
    by_name: std::sync::RwLock<Option<ByName<K, H>>>,
    register: fn(&str, &K) -> H,
}

type ByName<K, H> = std::collections::HashMap<Box<str>, std::collections::HashMap<K, H, Hasher>, Hasher>;
type Hasher = foldhash::fast::RandomState;

impl<K: Clone + Eq + std::hash::Hash, H> Handles<K, H> {
    pub const fn new(register: fn(&str, &K) -> H) -> Self {
        Self { by_name: std::sync::RwLock::new(None), register }
    }

    /// Runs `f` on the handles of (`name`, `key`), registering them the first time.
    pub fn with<R>(&self, name: &str, key: K, f: impl FnOnce(&H) -> R) -> R {
        {
            let map = self.by_name.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(handles) = map.as_ref().and_then(|m| m.get(name)).and_then(|m| m.get(&key)) {
                return f(handles);
            }
        }
        let mut map = self.by_name.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        let per_name = map.get_or_insert_with(Default::default).entry(name.into()).or_default();
        let handles = per_name.entry(key.clone()).or_insert_with(|| (self.register)(name, &key));
        f(handles)
    }
}
