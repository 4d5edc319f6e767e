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
    let addr = format!("{}:{}", args.host, args.port);
    let server = platform::http::Server::bind(&addr, beat::simulator::Simulator::new().router()).await?;
    tracing::warn!(addr = %server.local_addr(), "PROVIDER SIMULATOR listening: simulated data, not a real provider");
    // stops on SIGTERM as on Ctrl-C, as the services do
    server.run_until_stopped(platform::shutdown::token_on_signal()).await
}
