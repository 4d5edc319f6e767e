//! The fuzz targets in `crates/fuzz` (cargo-fuzz, libFuzzer): every parser of outside input,
//! run briefly by `cargo stack test` and long by `cargo stack fuzz`, which writes
//! `bench/results/fuzz.{md,json}`.
//!
//! cargo-fuzz (pinned, installed from crates.io into `.stack/tools/cargo-fuzz`) builds the
//! targets with libFuzzer's coverage instrumentation, no sanitizer (the targets are safe Rust)
//! and debug assertions with overflow checks on, which the ordinary stable toolchain does. Each
//! target starts from the committed seeds (`crates/fuzz/seeds/<target>`, valid examples so the
//! fuzzer begins deep inside each format) and keeps what it learns in
//! `crates/fuzz/corpus/<target>` (ignored). A crash fails the run and leaves its input in
//! `crates/fuzz/artifacts/<target>/`, to be turned into a regression test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::profile::repo_root;

/// The cargo-fuzz release the targets are built with.
const CARGO_FUZZ: &str = "0.13.2";

/// Every fuzz target, with what it feeds.
pub const TARGETS: [(&str, &str); 8] = [
    ("downstream_auth", "the downstream Authorization codec (decode, and encode round trip)"),
    ("tenant_headers", "x-bb-* tenant headers into a tenant identity (and back)"),
    ("bearer_token", "Authorization: Bearer header and HS256 JWT verification"),
    ("search_query", "discovery search JSON (filter language) into SQL with bound values"),
    ("rate_limit_config", "rate-limit configuration in its compact form"),
    ("handle", "creator handles and platform names"),
    ("provider_profile", "beat's seven sources' profile answers (status and body) into a validated profile"),
    ("provider_posts", "beat's seven sources' answers for a page of posts (lists and details) into validated posts"),
];

pub fn fuzz_dir() -> PathBuf {
    repo_root().join("crates/fuzz")
}

/// The `cargo-fuzz` binary, installed when missing.
pub fn ensure_cargo_fuzz() -> anyhow::Result<PathBuf> {
    let root = repo_root().join(".stack/tools/cargo-fuzz");
    let bin = root.join("bin/cargo-fuzz");
    let pinned = root.join(CARGO_FUZZ);
    if bin.is_file() && pinned.is_file() {
        return Ok(bin);
    }
    eprintln!("installing cargo-fuzz {CARGO_FUZZ} (cargo install)…");
    let status = Command::new("cargo")
        .args(["install", "--locked", "--quiet", "cargo-fuzz", "--version", CARGO_FUZZ, "--root"])
        .arg(&root)
        .status()?;
    anyhow::ensure!(status.success(), "cargo install cargo-fuzz {CARGO_FUZZ} failed");
    std::fs::write(&pinned, "")?;
    Ok(bin)
}

fn cargo_fuzz(bin: &Path, sub: &str) -> Command {
    let mut cmd = Command::new(bin);
    // no sanitizer (the targets are safe Rust), optimized, with debug assertions and overflow
    // checks on: an arithmetic overflow is a panic in the tests' and the dev stack's debug
    // builds (and a wrong value in release), so it must be a crash here too (without `-a`, an
    // overflow in the YouTube duration parser went unseen over 10M executions)
    cmd.arg(sub).args(["--fuzz-dir"]).arg(fuzz_dir()).args(["-s", "none", "-O", "-a"]);
    cmd.current_dir(fuzz_dir());
    cmd
}

/// How one target's run went.
#[derive(Debug)]
pub struct Outcome {
    pub target: &'static str,
    pub feeds: &'static str,
    pub executions: u64,
    pub seconds: f64,
    /// Where libFuzzer left the crashing input, if it crashed.
    pub crash: Option<String>,
}

/// Builds every target, then runs each for `seconds` or until `runs` executions (whichever
/// the caller gives; both bound the run).
pub fn run(seconds: Option<u64>, runs: Option<u64>) -> anyhow::Result<Vec<Outcome>> {
    let bin = ensure_cargo_fuzz()?;
    let built = cargo_fuzz(&bin, "build").status()?;
    anyhow::ensure!(built.success(), "building the fuzz targets failed");
    let mut outcomes = Vec::new();
    for (target, feeds) in TARGETS {
        let corpus = fuzz_dir().join("corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        let mut cmd = cargo_fuzz(&bin, "run");
        cmd.arg(target).arg(&corpus).arg(fuzz_dir().join("seeds").join(target)).arg("--").arg("-seed=1");
        if let Some(s) = seconds {
            cmd.arg(format!("-max_total_time={s}"));
        }
        if let Some(n) = runs {
            cmd.arg(format!("-runs={n}"));
        }
        let started = Instant::now();
        let out = cmd.output()?;
        let log = String::from_utf8_lossy(&out.stderr);
        // libFuzzer's last word: "Done 123 runs in 10 second(s)"
        let executions = log
            .lines()
            .rev()
            .find_map(|l| l.strip_prefix("Done ")?.split(' ').next()?.parse::<u64>().ok())
            .unwrap_or_default();
        let crash = (!out.status.success()).then(|| {
            log.lines()
                .find_map(|l| l.split("Test unit written to ").nth(1).map(str::to_owned))
                .unwrap_or_else(|| format!("exit {:?}; see the output above", out.status.code()))
        });
        if crash.is_some() {
            eprintln!("{log}");
        }
        eprintln!(
            "fuzz {target}: {executions} executions, {}",
            crash.as_deref().map_or("no crash".to_owned(), |c| format!("CRASH: {c}"))
        );
        outcomes.push(Outcome { target, feeds, executions, seconds: started.elapsed().as_secs_f64(), crash });
    }
    Ok(outcomes)
}

/// `bench/results/fuzz.{md,json}` for a long run.
pub fn report(outcomes: &[Outcome], runs: u64) -> anyhow::Result<()> {
    let dir = repo_root().join("bench/results");
    std::fs::create_dir_all(&dir)?;
    let mut md = format!(
        "# Fuzzing: every parser of outside input\n\nGenerated by `cargo stack fuzz --runs {runs}` on {} \
         (cargo-fuzz {CARGO_FUZZ}, libFuzzer's coverage instrumentation, no sanitizer: the targets are \
         safe Rust; debug assertions and overflow checks on, so an overflow is a crash; seed 1, starting from `crates/fuzz/seeds`). Target: 0 crashes over 10,000,000 executions per \
         target.\n\n| target | what it feeds | executions | seconds | executions/s | crashes |\n|---|---|---|---|---|---|\n",
        chrono::Utc::now().format("%Y-%m-%d")
    );
    let mut rows = Vec::new();
    for o in outcomes {
        md.push_str(&format!(
            "| {} | {} | {} | {:.0} | {:.0} | {} |\n",
            o.target,
            o.feeds,
            o.executions,
            o.seconds,
            o.executions as f64 / o.seconds.max(0.001),
            if o.crash.is_some() { "1" } else { "0" }
        ));
        rows.push(serde_json::json!({
            "target": o.target, "feeds": o.feeds, "executions": o.executions, "seconds": o.seconds,
            "crash": o.crash,
        }));
    }
    md.push_str(
        "\nThe targets check more than the absence of panics: an accepted downstream Authorization and an \
         accepted tenant identity survive being written and read again unchanged, an accepted handle parses \
         to itself, a search's SQL never carries client text outside bound parameters, a provider's accepted \
         profile answer is of the platform and the creator asked for, and its accepted posts page holds only \
         posts with ids of that platform.\n",
    );
    let cpu = std::fs::read_to_string("/proc/cpuinfo").ok().and_then(|c| {
        c.lines()
            .find_map(|l| l.strip_prefix("model name").and_then(|v| v.split(':').nth(1)).map(|v| v.trim().to_owned()))
    });
    let machine = serde_json::json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
    });
    let json =
        serde_json::json!({ "machine": machine, "runs_per_target": runs, "cargo_fuzz": CARGO_FUZZ, "targets": rows });
    std::fs::write(dir.join("fuzz.md"), md)?;
    std::fs::write(dir.join("fuzz.json"), serde_json::to_string_pretty(&json)? + "\n")?;
    Ok(())
}
