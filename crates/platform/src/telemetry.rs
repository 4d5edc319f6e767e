//! Tracing set-up shared by every binary.
//!
//! `LOG_FORMAT=json` gives one JSON object per line for log shippers; anything else gives the
//! human-readable format. `RUST_LOG` filters as usual (default `info`).

use tracing_subscriber::{fmt, EnvFilter};

/// Output format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl LogFormat {
    pub fn from_env() -> Self {
        match std::env::var("LOG_FORMAT").map(|v| v.to_ascii_lowercase()) {
            Ok(v) if v == "json" => Self::Json,
            _ => Self::Pretty,
        }
    }
}

/// Installs the global subscriber. Safe to call more than once (later calls are ignored), so
/// tests may call it freely.
pub fn init(default_filter: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = fmt().with_env_filter(filter).with_target(true);
    let _ = match LogFormat::from_env() {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}
