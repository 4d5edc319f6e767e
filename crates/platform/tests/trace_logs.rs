//! The trace id of an incoming `traceparent` is a field of every request's log span, so each
//! line a service logs while serving the request carries it. A binary of its own: `tracing`
//! caches per-callsite interest process-wide, so a log-capturing test must not share its
//! process with tests that log without a subscriber.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use axum::Router;
use platform::http::with_common_layers;
use tower::ServiceExt;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn the_trace_id_is_in_the_request_logs() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let app = with_common_layers(Router::new().route(
        "/work",
        get(|| async {
            tracing::warn!("inside the handler");
            "done"
        }),
    ));
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let resp =
        app.oneshot(Request::get("/work").header("traceparent", parent).body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    let line = logs.lines().find(|l| l.contains("inside the handler")).expect("the handler logged");
    assert!(line.contains("trace_id=4bf92f3577b34da6a3ce929d0e0e4736"), "{line}");
}
