//! Tracing set-up shared by every binary.
//!
//! `LOG_FORMAT=json` gives one JSON object per line for log shippers, `LOG_FORMAT=pretty` (the
//! default) the human-readable format. `RUST_LOG` filters as usual (default `info` for the
//! services). A value that cannot be read stops the program at start-up with exit code 2,
//! naming the variable, like every other setting: a typo must not silently change what is
//! logged.

use std::str::FromStr;

use tracing_subscriber::{fmt, EnvFilter};

use crate::config::Env;

/// Output format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

impl FromStr for LogFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "pretty" | "text" => Ok(Self::Pretty),
            _ => Err("expected json or pretty".to_owned()),
        }
    }
}

/// The format and filter `env` asks for (`default_filter` when `RUST_LOG` is unset).
pub fn settings(env: &mut Env, default_filter: &str) -> (LogFormat, EnvFilter) {
    let format = env.or("LOG_FORMAT", LogFormat::Pretty);
    let filter = match env.optional::<String>("RUST_LOG") {
        None => EnvFilter::new(default_filter),
        Some(directives) => EnvFilter::builder().parse(&directives).unwrap_or_else(|e| {
            env.invalid("RUST_LOG", format!("not a filter: {e}"));
            EnvFilter::new(default_filter)
        }),
    };
    (format, filter)
}

/// Installs the global subscriber. Safe to call more than once (later calls are ignored), so
/// tests may call it freely.
pub fn install(format: LogFormat, filter: EnvFilter) {
    let builder = fmt().with_env_filter(filter).with_target(true);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
}

/// Installs the global subscriber from the process's `LOG_FORMAT` and `RUST_LOG`, for a
/// tool's `main`: a value it cannot read ends `program` with exit code 2 and the variable's
/// name. (Services read both with the rest of their configuration, see `run_service`.)
pub fn init(program: &str, default_filter: &str) {
    let mut env = Env::from_process();
    let (format, filter) = settings(&mut env, default_filter);
    if let Err(e) = env.finish() {
        eprintln!("{program}: {e}");
        std::process::exit(2);
    }
    install(format, filter);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_settings_are_named() {
        let mut env = Env::from_pairs([("LOG_FORMAT", "jsn"), ("RUST_LOG", "coffee=loud")]);
        let _ = settings(&mut env, "info");
        let err = env.finish().unwrap_err().to_string();
        assert!(err.contains("LOG_FORMAT") && err.contains("RUST_LOG"), "{err}");
    }

    #[test]
    fn defaults_and_good_values_are_taken() {
        let mut env = Env::from_pairs([("LOG_FORMAT", "JSON"), ("RUST_LOG", "warn,coffee=debug")]);
        let (format, _) = settings(&mut env, "info");
        assert_eq!(format, LogFormat::Json);
        assert!(env.finish().is_ok());
        let mut env = Env::from_pairs([]);
        assert_eq!(settings(&mut env, "info").0, LogFormat::Pretty);
        assert!(env.finish().is_ok());
    }
}
