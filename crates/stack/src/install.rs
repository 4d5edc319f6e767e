//! Installs the Debian packages the stack needs when they are missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::process::run;

const PACKAGES: &[&str] = &["postgresql", "redis-server", "clickhouse-server", "clickhouse-client"];

/// The newest installed PostgreSQL server's `bin` folder (Debian keeps them versioned).
pub fn postgres_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p)
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
        .unwrap_or(false)
        || Path::new("/usr/sbin").join(program).is_file()
}

fn missing() -> Vec<&'static str> {
    let mut missing = Vec::new();
    if postgres_bin_dir().is_none() {
        missing.push("postgresql");
    }
    if !on_path("redis-server") || !on_path("redis-cli") {
        missing.push("redis-server");
    }
    if !on_path("clickhouse-server") {
        missing.push("clickhouse-server");
    }
    if !on_path("clickhouse-client") {
        missing.push("clickhouse-client");
    }
    missing
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Installs missing packages with apt-get (as root, or through passwordless sudo).
pub fn ensure_installed() -> anyhow::Result<()> {
    let missing = missing();
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(PACKAGES)?;
    let still = self::missing();
    if !still.is_empty() {
        anyhow::bail!("after apt-get install, still missing: {}", still.join(", "));
    }
    Ok(())
}

/// ZooKeeper's start script (Debian's `zookeeper`, with the Java it needs), for the replicated
/// ClickHouse layout.
pub const ZOOKEEPER: &str = "/usr/share/zookeeper/bin/zkServer.sh";

pub fn ensure_zookeeper() -> anyhow::Result<()> {
    if Path::new(ZOOKEEPER).is_file() {
        return Ok(());
    }
    apt_install(&["zookeeper"])?;
    anyhow::ensure!(Path::new(ZOOKEEPER).is_file(), "after apt-get install, {ZOOKEEPER} is still missing");
    Ok(())
}

/// The gateway benchmark's tools: nginx (the plain reverse proxy it is compared with) and wrk
/// (the load generator), from Debian.
pub fn ensure_bench_tools() -> anyhow::Result<()> {
    let missing: Vec<&str> = ["nginx", "wrk"].into_iter().filter(|p| !on_path(p)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    apt_install(&missing)?;
    if let Some(still) = ["nginx", "wrk"].into_iter().find(|p| !on_path(p)) {
        anyhow::bail!("after apt-get install, still missing: {still}");
    }
    // Debian's package starts a system nginx on port 80; the benchmark runs its own
    let _ = Command::new("nginx").args(["-s", "stop"]).output();
    Ok(())
}

/// Node.js and npm, which build and test the dashboard (Debian's packages when missing).
pub fn ensure_node() -> anyhow::Result<()> {
    if on_path("node") && on_path("npm") {
        return Ok(());
    }
    apt_install(&["nodejs", "npm"])?;
    anyhow::ensure!(on_path("node") && on_path("npm"), "after apt-get install, node or npm is still missing");
    Ok(())
}

/// Debian's Chromium, the browser the dashboard's end-to-end tests drive.
pub fn ensure_browser() -> anyhow::Result<()> {
    if Path::new(CHROMIUM).is_file() {
        return Ok(());
    }
    apt_install(&["chromium"])?;
    anyhow::ensure!(Path::new(CHROMIUM).is_file(), "after apt-get install, {CHROMIUM} is still missing");
    Ok(())
}

pub const CHROMIUM: &str = "/usr/bin/chromium";

/// The schemathesis release the contract tests run (pinned: its checks change between releases).
const SCHEMATHESIS: &str = "schemathesis==4.32.5";

/// schemathesis (PyPI) in a virtual environment of the stack's own (`.stack/tools/`), for the
/// HTTP contract tests; returns the path of its `st` command.
pub fn ensure_schemathesis() -> anyhow::Result<PathBuf> {
    Ok(ensure_python_tool("schemathesis", SCHEMATHESIS)?.join("bin/st"))
}

/// The current ClickHouse engine the compatibility pass runs on (pinned: PyPI's in-process
/// ClickHouse; no server package of a current release is reachable here).
pub const CHDB: &str = "chdb-core==26.9.0";

/// chdb-core in a virtual environment of the stack's own; returns the environment's `python`.
pub fn ensure_chdb() -> anyhow::Result<PathBuf> {
    Ok(ensure_python_tool("chdb", CHDB)?.join("bin/python"))
}

/// A virtual environment `.stack/tools/<name>` holding the pinned `requirement` (installed by
/// pip once; a marker file named after the pin tells a later run it is there); returns its root.
fn ensure_python_tool(name: &str, requirement: &str) -> anyhow::Result<PathBuf> {
    let venv = crate::profile::repo_root().join(".stack/tools").join(name);
    let pinned = venv.join(requirement);
    if venv.join("bin/python").is_file() && pinned.is_file() {
        return Ok(venv);
    }
    if !on_path("python3") {
        apt_install(&["python3", "python3-venv"])?;
    }
    let created = Command::new("python3").args(["-m", "venv", "--clear"]).arg(&venv).status()?;
    if !created.success() {
        apt_install(&["python3-venv"])?;
        let again = Command::new("python3").args(["-m", "venv", "--clear"]).arg(&venv).status()?;
        anyhow::ensure!(again.success(), "python3 -m venv {} failed", venv.display());
    }
    eprintln!("installing {requirement} (pip)…");
    let pip = Command::new(venv.join("bin/pip")).args(["install", "--quiet", requirement]).status()?;
    anyhow::ensure!(pip.success(), "pip install {requirement} failed");
    std::fs::write(&pinned, "")?;
    Ok(venv)
}

fn apt_install(packages: &[&str]) -> anyhow::Result<()> {
    eprintln!("installing {} (apt-get)…", packages.join(", "));
    let apt = |args: &[&str]| -> anyhow::Result<String> {
        let mut cmd = if is_root() {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.args(["-n", "apt-get"]);
            c
        };
        cmd.env("DEBIAN_FRONTEND", "noninteractive").args(args);
        run(&mut cmd)
    };
    apt(&["update", "-qq"])
        .map_err(|e| anyhow::anyhow!("apt-get update failed; is a package mirror reachable? {e}"))?;
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(packages);
    apt(&args).map_err(|e| anyhow::anyhow!("installing {packages:?} failed: {e}"))?;
    Ok(())
}
