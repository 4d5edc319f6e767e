//! `cargo stack`: the local stack of real servers.
//!
//! ```text
//! cargo stack dev                  # servers + schema + demo data + the three services
//! cargo stack test                 # fresh test stack, every test, teardown (also on failure)
//! cargo stack fuzz [--runs N]      # every fuzz target, N executions each (bench/results/fuzz.md)
//! cargo stack soak [--seconds N]   # mixed traffic through a Redis restart (bench/results/soak.md)
//! cargo stack up|down|status|env [--profile dev|test]
//! ```

use std::path::PathBuf;
use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};
use stack::{Components, Profile, StackInfo};

#[derive(Parser)]
#[command(name = "cargo stack", about = "Real local Postgres, Redis (Cluster) and ClickHouse for bulbul")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Args, Clone)]
struct Target {
    /// dev (customary ports, .stack/dev) or test (ports 25000+, .stack/test)
    #[arg(long, default_value = "dev")]
    profile: String,
    /// Another state folder; ports then derive from --port-base
    #[arg(long, requires = "port_base")]
    state_dir: Option<PathBuf>,
    #[arg(long)]
    port_base: Option<u16>,
}

impl Target {
    fn profile(&self) -> anyhow::Result<Profile> {
        match (&self.state_dir, self.port_base) {
            (Some(dir), Some(base)) => {
                std::fs::create_dir_all(dir)?;
                Ok(Profile::with_base("custom", dir.canonicalize()?, base))
            }
            _ => Profile::by_name(&self.profile),
        }
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Start the servers (installing them if missing) and apply both schemas. Idempotent.
    Up {
        #[command(flatten)]
        target: Target,
        /// Skip the single Redis node
        #[arg(long)]
        no_redis_single: bool,
        /// Skip the 3-node Redis Cluster
        #[arg(long)]
        no_redis_cluster: bool,
        /// ClickHouse servers: 1, or 2 for the two-shard cluster `bulbul_2shards`
        #[arg(long, default_value_t = 1)]
        shards: u8,
    },
    /// Stop every process this tool started for the profile.
    Down {
        #[command(flatten)]
        target: Target,
        /// Also delete the state folder (data, logs)
        #[arg(long)]
        purge: bool,
    },
    /// Health of each server and service; exits 1 if any is unhealthy.
    Status {
        #[command(flatten)]
        target: Target,
    },
    /// Print `export VAR=value` lines for running a service against the stack.
    Env {
        #[command(flatten)]
        target: Target,
    },
    /// The whole platform for a person: servers, schema, demo data and the three services.
    Dev {
        /// Build and run the services in release mode
        #[arg(long)]
        release: bool,
        /// 2: two ClickHouse servers, one shard each, and the services on the sharded layout
        /// (database `bulbul_sharded`, `CH_CLUSTER=bulbul_2shards`); 1: one server
        #[arg(long, default_value_t = 1)]
        shards: u8,
    },
    /// The benchmarks on the test stack: analytics and HTTP (bench/results/analytics.{md,json}),
    /// the gateway's session tiers (gateway.{md,json}), the stacked rate limiter
    /// (ratelimit.{md,json}), beat's refreshes (beat.{md,json}) and its queue (queue.{md,json}).
    Bench {
        /// Time-series rows per store, comma-separated
        #[arg(long, default_value = "1000000,5000000,20000000")]
        sizes: String,
        /// Run only these benchmarks, comma-separated: analytics, gateway, ratelimit, beat, queue
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// The fuzz targets (crates/fuzz) for this many executions each; writes
    /// bench/results/fuzz.{md,json}. Needs no stack.
    Fuzz {
        #[arg(long, default_value_t = 10_000_000)]
        runs: u64,
    },
    /// The soak test for this long (the test command runs it for 10 s): mixed traffic through the
    /// gateway while its Redis Cluster is restarted; writes bench/results/soak.{md,json}.
    Soak {
        #[arg(long, default_value_t = 180)]
        seconds: u64,
    },
    /// Every test on a fresh test stack, torn down afterwards even when tests fail.
    Test {
        /// Keep the test stack running afterwards (for re-running single tests)
        #[arg(long)]
        keep: bool,
        /// Extra arguments for the test runner (after --)
        #[arg(last = true)]
        args: Vec<String>,
    },
}

fn print_status(rows: &[stack::ComponentStatus]) -> bool {
    let mut all = true;
    for r in rows {
        all &= r.healthy;
        println!("{:<4} {:<34} {}", if r.healthy { "ok" } else { "DOWN" }, r.name, r.detail.replace('\n', " "));
    }
    all
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Cmd::Up { target, no_redis_single, no_redis_cluster, shards } => {
            let profile = target.profile()?;
            let components =
                Components { redis_single: !no_redis_single, redis_cluster: !no_redis_cluster, ch_shards: shards };
            stack::up(&profile, components).await?;
            let ok = print_status(&stack::status(&profile.state_dir).await?);
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Cmd::Down { target, purge } => {
            let profile = target.profile()?;
            let stopped = stack::down(&profile.state_dir)?;
            println!("stopped: {}", if stopped.is_empty() { "nothing was running".into() } else { stopped.join(", ") });
            if purge {
                for dir in [stack::postgres::data_root(&profile), profile.state_dir.clone()] {
                    if dir.exists() {
                        std::fs::remove_dir_all(&dir)?;
                        println!("removed {}", dir.display());
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Status { target } => {
            let ok = print_status(&stack::status(&target.profile()?.state_dir).await?);
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
        Cmd::Env { target } => {
            let profile = target.profile()?;
            let info = StackInfo::load(&profile.state_dir)?
                .ok_or_else(|| anyhow::anyhow!("no stack in {}; run `cargo stack up`", profile.state_dir.display()))?;
            for (k, v) in info.service_env() {
                println!("export {k}={v}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Dev { release, shards } => dev(release, shards).await,
        Cmd::Test { keep, args } => test(keep, args).await,
        Cmd::Bench { sizes, only } => bench(&sizes, &only).await,
        Cmd::Soak { seconds } => soak(seconds).await,
        Cmd::Fuzz { runs } => {
            let outcomes = stack::fuzz::run(None, Some(runs))?;
            stack::fuzz::report(&outcomes, runs)?;
            Ok(if outcomes.iter().all(|o| o.crash.is_none()) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
        }
    }
}

async fn dev(release: bool, shards: u8) -> anyhow::Result<ExitCode> {
    let profile = Profile::dev();
    eprintln!("starting servers in {} …", profile.state_dir.display());
    let mut info = stack::up(&profile, Components { ch_shards: shards, ..Components::default() }).await?;
    // the services' database: the single-node layout, or the sharded one across both servers
    (info.ch_database, info.ch_cluster) = if shards == 2 {
        (stack::profile::CH_SHARDED_DATABASE.to_owned(), Some(stack::profile::CH_CLUSTER.to_owned()))
    } else {
        (stack::profile::CH_DATABASE.to_owned(), None)
    };
    info.save()?;
    eprintln!("loading demo data …");
    let demo = stack::demo::load(&info).await?;
    eprintln!("building the dashboard …");
    let dashboard = stack::dashboard::build()?;
    eprintln!("building the services …");
    stack::services::build(release)?;
    let mut env = demo.service_env;
    env.push(("DASHBOARD_DIR".to_owned(), dashboard.display().to_string()));
    stack::services::start(&mut info, release, &env).await?;
    info.save()?;
    print_status(&stack::status(&profile.state_dir).await?);
    println!("\n{}", demo.summary);
    println!("dashboard http://127.0.0.1:8009/ (served by the gateway)");
    println!("gateway  http://127.0.0.1:8009   coffee http://127.0.0.1:7179   beat http://127.0.0.1:8000");
    println!("each has /health, /ready and /metrics; `cargo stack down` stops everything.");
    Ok(ExitCode::SUCCESS)
}

const BENCHES: [(&str, &str, &str); 5] = [
    ("analytics", "coffee", "analytics"),
    ("gateway", "gateway", "edge"),
    ("ratelimit", "ratelimit", "ratelimit"),
    ("beat", "beat", "refresh"),
    ("queue", "beat", "queue"),
];

async fn bench(sizes: &str, only: &[String]) -> anyhow::Result<ExitCode> {
    if let Some(unknown) = only.iter().find(|o| !BENCHES.iter().any(|(name, ..)| name == o)) {
        anyhow::bail!("no benchmark named {unknown:?}; there are analytics, gateway, ratelimit, beat and queue");
    }
    let profile = Profile::test();
    stack::up(&profile, Components::all()).await?;
    let chosen = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    if chosen("gateway") {
        // the end-to-end comparison runs release builds of coffee and the gateway as processes,
        // against Debian's nginx, loaded by wrk
        stack::install::ensure_bench_tools()?;
        let built = Command::new(env!("CARGO"))
            .current_dir(stack::profile::repo_root())
            .args(["build", "--release", "--package", "coffee", "--package", "gateway", "--bins"])
            // the gateway's HTTP stack alone, the floor the gateway is compared with
            .args(["--example", "bare_proxy"])
            .status()?;
        anyhow::ensure!(built.success(), "building the release binaries failed");
    }
    let mut ok = true;
    for (_, package, bench) in BENCHES.iter().filter(|(name, ..)| chosen(name)) {
        let status = Command::new(env!("CARGO"))
            .current_dir(stack::profile::repo_root())
            .args(["bench", "--package", package, "--bench", bench])
            .env("STACK_STATE_DIR", &profile.state_dir)
            .env("BENCH_SIZES", sizes)
            .status()?;
        ok &= status.success();
    }
    stack::down(&profile.state_dir)?;
    Ok(if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The gateway's soak test (`gateway/tests/api/soak.rs`) for `seconds`, with its report.
async fn soak(seconds: u64) -> anyhow::Result<ExitCode> {
    let profile = Profile::test();
    stack::up(&profile, Components::default()).await?;
    let status = Command::new(env!("CARGO"))
        .current_dir(stack::profile::repo_root())
        .args(["test", "--package", "gateway", "--test", "api", "soak::", "--", "--nocapture"])
        .env("STACK_STATE_DIR", &profile.state_dir)
        .env("SOAK_SECONDS", seconds.to_string())
        .env("SOAK_REPORT", "1")
        .status()?;
    stack::down(&profile.state_dir)?;
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// How long `cargo stack test` runs each fuzz target (the long run is `cargo stack fuzz`).
const FUZZ_SMOKE_SECONDS: u64 = 10;

async fn test(keep: bool, args: Vec<String>) -> anyhow::Result<ExitCode> {
    let profile = Profile::test();
    // a fresh stack every run: no state leaks from a previous run
    stack::down(&profile.state_dir)?;
    for dir in [stack::postgres::data_root(&profile), profile.state_dir.clone()] {
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
    }
    let outcome = async {
        // the browser tests (in the gateway's suite) need the built app and Chromium
        stack::dashboard::build()?;
        stack::install::ensure_browser()?;
        // the HTTP contract tests (in coffee's suite) run schemathesis
        let schemathesis = stack::install::ensure_schemathesis()?;
        stack::up(&profile, Components::all()).await?;
        let nextest =
            Command::new(env!("CARGO")).args(["nextest", "--version"]).output().is_ok_and(|o| o.status.success());
        let mut cmd = Command::new(env!("CARGO"));
        cmd.current_dir(stack::profile::repo_root());
        if nextest {
            cmd.args(["nextest", "run", "--workspace", "--no-fail-fast"]);
        } else {
            cmd.args(["test", "--workspace", "--no-fail-fast"]);
        }
        cmd.args(&args).env("STACK_STATE_DIR", &profile.state_dir).env("SCHEMATHESIS", &schemathesis);
        eprintln!("running {cmd:?}");
        let rust = cmd.status()?;
        eprintln!("running the ClickHouse tests again on a current ClickHouse engine ({})", stack::install::CHDB);
        let current_clickhouse = compatibility_pass(&profile, nextest).await?;
        eprintln!("running the dashboard's unit tests");
        let unit = stack::dashboard::unit_tests()?;
        eprintln!("running each fuzz target for {FUZZ_SMOKE_SECONDS} s");
        let fuzzed = stack::fuzz::run(Some(FUZZ_SMOKE_SECONDS), None)?.iter().all(|o| o.crash.is_none());
        anyhow::Ok(rust.success() && current_clickhouse && unit && fuzzed)
    }
    .await;
    if !keep {
        let stopped = stack::down(&profile.state_dir)?;
        eprintln!("test stack stopped: {}", stopped.join(", "));
    }
    let passed = outcome?;
    Ok(if passed { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The tests that send ClickHouse statements (the DDL, every analytics query, the datagen and
/// beat inserts, the re-ingest property test), without those that stop or cut off the test
/// server's own process or need the stack's two servers (they need real servers, not one engine
/// behind a harness).
const CLICKHOUSE_TESTS: &str = "(package(coffee) & test(/^(analytics|reingest|dao|profiles)::/) & !test(/silent/)) \
     | (package(stack) & test(/^schema::/)) | package(datagen) \
     | (package(beat) & test(/^refresh::/) & !test(/clickhouse|sharded/))";

/// The same as [`CLICKHOUSE_TESTS`] for `cargo test` (name filters only), where nextest is missing.
const CLICKHOUSE_TEST_NAMES: [&str; 6] =
    ["analytics::", "reingest::", "dao::the_clickhouse", "profiles::", "schema::", "refresh::"];

/// [`CLICKHOUSE_TESTS`] once more, on the current ClickHouse engine of `stack::chdb`, with row
/// validation on: a statement that today's ClickHouse refuses, or a SELECT whose columns do
/// not match the Rust row that reads them, fails here although 18.16 accepted it.
async fn compatibility_pass(profile: &Profile, nextest: bool) -> anyhow::Result<bool> {
    let dir = profile.state_dir.join("chdb");
    let server = stack::chdb::start(&dir)?;
    let base = StackInfo::load(&profile.state_dir)?.ok_or_else(|| anyhow::anyhow!("the test stack is not up"))?;
    server.stack_info(&base, &dir).await?;
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(stack::profile::repo_root());
    if nextest {
        cmd.args(["nextest", "run", "--workspace", "--no-fail-fast", "-E", CLICKHOUSE_TESTS]);
    } else {
        cmd.args(["test", "--workspace", "--no-fail-fast", "--"]).args(CLICKHOUSE_TEST_NAMES);
    }
    let status = cmd.env("STACK_STATE_DIR", &dir).status()?;
    Ok(status.success())
}

#[tokio::main]
async fn main() -> ExitCode {
    platform::telemetry::init("cargo stack", "warn");
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
