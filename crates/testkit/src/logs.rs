//! Every log line a test's services write, captured so a test can assert what never appears in
//! them (a secret). The capture covers the calling thread: with `#[tokio::test]`'s
//! current-thread runtime that is every task the test and its in-process services run.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// The captured lines, and the guard keeping the capture installed.
pub struct Captured {
    lines: Arc<Mutex<Vec<u8>>>,
    _guard: tracing::subscriber::DefaultGuard,
}

#[derive(Clone)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log sink").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Captures every event at TRACE and above, from every target, as the services format them
/// (JSON, with their fields and spans), until the result is dropped.
pub fn capture() -> Captured {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Sink(lines.clone());
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(move || sink.clone())
        .finish();
    Captured { lines, _guard: tracing::subscriber::set_default(subscriber) }
}

impl Captured {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.lines.lock().expect("log sink")).into_owned()
    }
}
