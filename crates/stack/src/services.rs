//! The three services in the dev stack, and the provider simulator beat scrapes in it: built by
//! cargo, started in the background with the stack's environment, logs in `<state>/logs/`,
//! pids recorded like the servers'.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{self, PidRecord, StopSignal};
use crate::profile::repo_root;
use crate::{ComponentStatus, StackInfo};

/// binary, its package, port; in start order
pub const SERVICES: &[(&str, &str, u16)] = &[
    ("provider-simulator", "beat", SIMULATOR_PORT),
    ("coffee", "coffee", 7179),
    ("beat", "beat", 8000),
    ("gateway", "gateway", 8009),
];

/// Where the dev stack's provider simulator listens (beat's sources point here).
pub const SIMULATOR_PORT: u16 = 8010;

/// Builds the service binaries (`--release` when asked).
pub fn build(release: bool) -> anyhow::Result<()> {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(repo_root()).args(["build", "--quiet"]);
    if release {
        cmd.arg("--release");
    }
    let mut packages: Vec<&str> = SERVICES.iter().map(|(_, package, _)| *package).collect();
    packages.dedup();
    for package in packages {
        cmd.args(["--package", package]);
    }
    let status = cmd.status()?;
    anyhow::ensure!(status.success(), "building the services failed");
    Ok(())
}

/// Starts each service and waits for its `/health`. A service still running from an earlier
/// `cargo stack dev` is stopped first (gracefully), so the binary just built is the one that
/// serves.
pub async fn start(info: &mut StackInfo, release: bool, extra_env: &[(String, String)]) -> anyhow::Result<()> {
    let target = repo_root().join("target").join(if release { "release" } else { "debug" });
    let logs = info.profile.state_dir.join("logs");
    std::fs::create_dir_all(&logs)?;
    for (name, _, port) in SERVICES {
        if let Some(running) = info.pids.get(*name).filter(|r| r.is_running()) {
            process::stop(running, Duration::from_secs(10))?;
        }
        process::ensure_port_free(*port, name)?;
        let log = std::fs::File::create(logs.join(format!("{name}.log")))?;
        let child = Command::new(target.join(name))
            .envs(info.service_env())
            .envs(extra_env.iter().cloned())
            .env("PORT", port.to_string())
            .args(if *name == "provider-simulator" { vec!["--port".to_owned(), port.to_string()] } else { vec![] })
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|e| anyhow::anyhow!("cannot start {name}: {e}"))?;
        let record = PidRecord {
            pid: i32::try_from(child.id())?,
            program: format!("target/{}/{name}", if release { "release" } else { "debug" }),
            stop_signal: StopSignal::Term,
            stop_order: 0,
        };
        info.pids.insert((*name).to_owned(), record);
        info.save()?;
        let url = format!("http://127.0.0.1:{port}/health");
        process::wait_until(name, Duration::from_secs(30), || {
            let url = url.clone();
            async move { reqwest::get(&url).await.is_ok_and(|r| r.status().is_success()) }
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}; see {}", logs.join(format!("{name}.log")).display()))?;
    }
    Ok(())
}

/// Readiness of each running service (its `/ready` checks its own dependencies).
pub async fn status(info: &StackInfo) -> Vec<ComponentStatus> {
    let mut out = Vec::new();
    for (name, _, port) in SERVICES {
        if !info.pids.contains_key(*name) {
            continue;
        }
        let result = reqwest::get(format!("http://127.0.0.1:{port}/ready")).await;
        let (healthy, detail) = match result {
            Ok(r) => (r.status().is_success(), r.text().await.unwrap_or_default()),
            Err(e) => (false, e.to_string()),
        };
        out.push(ComponentStatus { name: format!("{name} :{port}"), healthy, detail });
    }
    out
}
