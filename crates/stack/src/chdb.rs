//! The ClickHouse of the compatibility pass: operators run current ClickHouse releases, while
//! the test stack's server is Debian's 18.16, which cannot check rows against their Rust types.
//! No current server package is reachable here, so the pass uses the current engine that is:
//! PyPI's chdb-core ([`crate::install::CHDB`]: ClickHouse 26.x in-process), behind
//! `crates/stack/chdb_http.py`, a test harness that speaks the part of ClickHouse's HTTP
//! interface the `clickhouse` crate uses. The statements run in the real engine; only the HTTP
//! front is ours. The ClickHouse tests then run a second time against it with row validation
//! on (the crate turns it on for a 26.x server), so every statement they send (DDL, queries
//! with their binds filled, inserts) runs on today's ClickHouse, and every SELECT's column names
//! and types are compared with the Rust row that reads them.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use crate::StackInfo;

/// The harness, stopped (SIGTERM) when dropped.
pub struct ChdbServer {
    child: Child,
    pub port: u16,
}

/// Installs chdb-core if missing and starts the harness on a free loopback port, its data under
/// `state_dir` (engine messages in `state_dir/chdb.log`).
pub fn start(state_dir: &Path) -> anyhow::Result<ChdbServer> {
    let python = crate::install::ensure_chdb()?;
    std::fs::create_dir_all(state_dir)?;
    let data = state_dir.join("data");
    if data.exists() {
        std::fs::remove_dir_all(&data)?;
    }
    let script = crate::profile::repo_root().join("crates/stack/chdb_http.py");
    let mut child = Command::new(python)
        .arg(script)
        .args(["--port", "0", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(state_dir.join("chdb.log"))?)
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("piped")).read_line(&mut line)?;
    let port = line.trim().strip_prefix("listening 127.0.0.1:").and_then(|p| p.parse().ok());
    match port {
        Some(port) => Ok(ChdbServer { child, port }),
        None => {
            let _ = child.kill();
            anyhow::bail!(
                "the chdb harness did not start (said {line:?}; see {})",
                state_dir.join("chdb.log").display()
            )
        }
    }
}

impl ChdbServer {
    /// `base`'s stack with ClickHouse replaced by this server, saved in `state_dir` for the
    /// tests (`STACK_STATE_DIR`); it records no process, so nothing of the stack is stopped twice.
    pub async fn stack_info(&self, base: &StackInfo, state_dir: &Path) -> anyhow::Result<StackInfo> {
        let mut info = base.clone();
        info.profile.state_dir = state_dir.to_path_buf();
        info.pids.clear();
        // one engine: the layouts over two servers are tested on the stack's own
        info.ch_shards.clear();
        crate::clickhouse::External {
            host: "127.0.0.1".into(),
            port: self.port,
            user: "default".into(),
            password: String::new(),
        }
        .apply(&mut info);
        info.ch_version = Some(store::ch::server_version(&info.ch_client()).await?);
        info.save()?;
        Ok(info)
    }
}

impl Drop for ChdbServer {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap_or(i32::MAX));
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}
