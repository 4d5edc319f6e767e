//! Thin binary: configuration, tracing and the server live in the library.

/// mimalloc: request handling allocates many short-lived buffers across threads, where glibc's
/// allocator spends measurable time consolidating (see bench/results).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    platform::run_service("gateway", gateway::Config::from_env, |config, shutdown| async move {
        Ok(gateway::build(config).await?.run_until_stopped(shutdown).await?)
    })
    .await
}
