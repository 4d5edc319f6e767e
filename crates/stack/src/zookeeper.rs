//! ZooKeeper (Debian's, one node on loopback): the coordination service ClickHouse's
//! `ReplicatedMergeTree` tables keep their replication log in, for the replicated layout over
//! the stack's two ClickHouse servers. Started with the second server; its data is throw-away.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::process::{self, PidRecord, StopSignal};
use crate::profile::Profile;
use crate::StackInfo;

pub const COMPONENT: &str = "zookeeper";

/// Whether ZooKeeper answers `ruok` with `imok`.
fn answers(port: u16) -> bool {
    let Ok(mut stream) =
        std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(300))
    else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
    let mut reply = String::new();
    stream.write_all(b"ruok").is_ok() && stream.read_to_string(&mut reply).is_ok() && reply == "imok"
}

pub async fn up(profile: &Profile, info: &mut StackInfo) -> anyhow::Result<()> {
    if info.pids.get(COMPONENT).is_some_and(PidRecord::is_running) {
        return Ok(());
    }
    crate::install::ensure_zookeeper()?;
    let root = profile.state_dir.join("zookeeper");
    std::fs::create_dir_all(root.join("data"))?;
    process::ensure_port_free(profile.zookeeper_port, "zookeeper")?;
    let config = root.join("zoo.cfg");
    std::fs::write(
        &config,
        format!(
            "tickTime=2000\ndataDir={}\nclientPort={}\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n\
             4lw.commands.whitelist=ruok\n",
            root.join("data").display(),
            profile.zookeeper_port
        ),
    )?;
    let child = Command::new(crate::install::ZOOKEEPER)
        .arg("start-foreground")
        .arg(&config)
        .env("JVMFLAGS", "-Xmx256m")
        .env("ZOO_LOG_DIR", &root)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(root.join("zookeeper.log"))?)
        .stderr(std::fs::File::create(root.join("zookeeper.err.log"))?)
        .spawn()?;
    // the script execs java, so the child's pid is the server's
    let pid = i32::try_from(child.id())?;
    let port = profile.zookeeper_port;
    process::wait_until(COMPONENT, Duration::from_secs(60), || async move { answers(port) })
        .await
        .map_err(|e| anyhow::anyhow!("{e} (see {})", root.join("zookeeper.err.log").display()))?;
    info.pids.insert(
        COMPONENT.into(),
        PidRecord { pid, program: "zookeeper".into(), stop_signal: StopSignal::Term, stop_order: 20 },
    );
    Ok(())
}
