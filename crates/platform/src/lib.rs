//! Plumbing every service shares, so that gateway, coffee and beat look and behave alike:
//! typed configuration from environment variables, tracing, Prometheus metrics, the tower
//! layers applied to every router, problem+json error bodies and graceful shutdown.

pub mod config;
pub mod cors;
pub mod extract;
pub mod hooks;
pub mod http;
pub mod metrics;
pub mod openapi;
pub mod problem;
pub mod shutdown;
pub mod state;
pub mod telemetry;
pub mod trace_context;

use std::future::Future;
use std::process::ExitCode;

use tokio_util::sync::CancellationToken;

/// The body of every service's `main`: init tracing, read the typed config (exit code 2 with
/// every offending variable named), then run until SIGTERM/Ctrl-C.
pub async fn run_service<C, Run, Fut>(
    service: &'static str,
    load: fn(config::Env) -> Result<C, config::ConfigError>,
    run: Run,
) -> ExitCode
where
    Run: FnOnce(C, CancellationToken) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    // the log settings are read with the rest, so one message names every unreadable variable
    let mut env = config::Env::from_process();
    let (format, filter) = telemetry::settings(&mut env, "info");
    let config = match load(env) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{service}: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::install(format, filter);
    match run(config, shutdown::token_on_signal()).await {
        Ok(()) => {
            tracing::info!(service, "stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!(service, error = %format!("{e:#}"), "stopped on error");
            ExitCode::FAILURE
        }
    }
}
