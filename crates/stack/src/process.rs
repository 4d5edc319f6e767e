//! Recorded pids, and stopping exactly those processes.
//!
//! A pid is only signalled while `/proc/<pid>/cmdline` still names the program we started, so a
//! recycled pid never gets killed by mistake.

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

/// A process this tool started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PidRecord {
    pub pid: i32,
    /// A substring of the process's command line that identifies it (e.g. `redis-server`).
    pub program: String,
    /// The signal for a clean, fast shutdown (Postgres wants SIGINT, others SIGTERM).
    pub stop_signal: StopSignal,
    /// Lower stops first (services before the stores they use).
    pub stop_order: u8,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopSignal {
    Term,
    Int,
}

impl PidRecord {
    /// Whether the pid is alive and still runs the recorded program.
    pub fn is_running(&self) -> bool {
        std::fs::read(format!("/proc/{}/cmdline", self.pid))
            .map(|raw| String::from_utf8_lossy(&raw).contains(&self.program))
            .unwrap_or(false)
            && !is_zombie(self.pid)
    }
}

fn is_zombie(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.trim_start().starts_with('Z')))
        .unwrap_or(true)
}

/// Reads a pid file such as Postgres's `postmaster.pid` (first line) or Redis's pidfile.
pub fn read_pid_file(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.lines().next()?.trim().parse().ok()
}

/// Stops one process: its stop signal, then SIGKILL after `grace`. Returns once it is gone.
pub fn stop(record: &PidRecord, grace: Duration) -> anyhow::Result<()> {
    if !record.is_running() {
        return Ok(());
    }
    let pid = Pid::from_raw(record.pid);
    let signal = match record.stop_signal {
        StopSignal::Term => Signal::SIGTERM,
        StopSignal::Int => Signal::SIGINT,
    };
    let _ = kill(pid, signal);
    let deadline = Instant::now() + grace;
    while record.is_running() {
        if Instant::now() >= deadline {
            tracing::warn!(pid = record.pid, program = %record.program, "did not stop in time; sending SIGKILL");
            let _ = kill(pid, Signal::SIGKILL);
            std::thread::sleep(Duration::from_millis(200));
            if record.is_running() {
                anyhow::bail!("process {} ({}) survived SIGKILL", record.pid, record.program);
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Stops every recorded process in stop order and forgets them. Returns the names stopped.
pub fn stop_all(pids: &mut BTreeMap<String, PidRecord>) -> anyhow::Result<Vec<String>> {
    let mut order: Vec<(String, PidRecord)> = pids.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    order.sort_by_key(|(name, r)| (r.stop_order, name.clone()));
    let mut stopped = Vec::new();
    for (name, record) in order {
        if record.is_running() {
            stop(&record, Duration::from_secs(30))?;
            stopped.push(name.clone());
        }
        pids.remove(&name);
    }
    Ok(stopped)
}

/// True when something accepts connections on `127.0.0.1:port`.
pub fn port_answers(port: u16) -> bool {
    TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(300)).is_ok()
}

/// Fails with a message naming the port and its owner-to-be when something listens there.
/// (Asked by connecting, not by binding: connections of a process just stopped linger in
/// TIME_WAIT and refuse a plain bind, while the servers bind with `SO_REUSEADDR`.)
pub fn ensure_port_free(port: u16, what: &str) -> anyhow::Result<()> {
    if port_answers(port) {
        anyhow::bail!(
            "port {port} (wanted for {what}) is busy: another process listens there; stop it, or use another profile"
        );
    }
    Ok(())
}

/// Polls `ready` every 100 ms until it holds or `timeout` passes.
pub async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut ready: F) -> anyhow::Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if ready().await {
            return Ok(());
        }
        if Instant::now() >= deadline {
            anyhow::bail!("{what} was not ready after {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs a command to completion; on failure the error carries its stderr.
pub fn run(cmd: &mut std::process::Command) -> anyhow::Result<String> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| anyhow::anyhow!("cannot run {shown}: {e}"))?;
    if !out.status.success() {
        anyhow::bail!(
            "{shown} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recycled_pid_is_not_ours() {
        let me = PidRecord {
            pid: std::process::id() as i32,
            program: "definitely-not-this-program".into(),
            stop_signal: StopSignal::Term,
            stop_order: 0,
        };
        assert!(!me.is_running());
        // stopping it is a no-op, not a kill of the test process
        stop(&me, Duration::from_millis(10)).unwrap();
    }

    #[test]
    fn busy_ports_are_named() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let err = ensure_port_free(port, "postgres").unwrap_err().to_string();
        assert!(err.contains(&port.to_string()) && err.contains("postgres"), "{err}");
    }
}
