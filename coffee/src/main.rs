//! Thin binary: configuration, tracing and the server live in the library.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform::run_service("coffee", coffee::Config::from_env, |config, shutdown| async move {
        Ok(coffee::build(config).await?.run_until_stopped(shutdown).await?)
    })
    .await
}
