//! `provider-simulator`: THE PROVIDER SIMULATOR, a local stand-in for beat's third-party
//! sources (see `beat::simulator`). For the dev stack and tests only.
//!
//! ```text
//! provider-simulator --port 8010
//! ```

use clap::Parser;

#[derive(Parser)]
#[command(about = "A local SIMULATOR of beat's third-party providers (not a real provider)")]
struct Args {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long, default_value_t = 8010)]
    port: u16,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    platform::telemetry::init("provider-simulator", "info");
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port)).await?;
    tracing::warn!(addr = %listener.local_addr()?, "PROVIDER SIMULATOR listening: simulated data, not a real provider");
    axum::serve(listener, beat::simulator::Simulator::new().router())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
