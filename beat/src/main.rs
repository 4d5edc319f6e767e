//! Thin binary: configuration, tracing and the server live in the library.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform::run_service("beat", beat::Config::from_env, |config, shutdown| async move {
        Ok(beat::build(config).await?.run_until_stopped(shutdown).await?)
    })
    .await
}
