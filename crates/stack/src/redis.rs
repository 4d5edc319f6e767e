//! Redis: a single node (beat's rate-limit backend, `REDIS_URL`) and a real 3-master Redis
//! Cluster (sessions and caches, `REDIS_CLUSTER_ADDRESSES`), slots assigned by
//! `redis-cli --cluster create`. Persistence is off: both only hold caches and counters.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::process::{self, read_pid_file, run, PidRecord, StopSignal};
use crate::profile::Profile;
use crate::{ComponentStatus, StackInfo};

/// Cluster nodes talk to each other on their port plus this.
pub const CLUSTER_BUS_OFFSET: u16 = 20;

fn start_node(dir: &Path, port: u16, cluster: bool) -> anyhow::Result<PidRecord> {
    std::fs::create_dir_all(dir)?;
    let pidfile = dir.join("redis.pid");
    let _ = std::fs::remove_file(&pidfile);
    let mut conf = format!(
        "port {port}\nbind 127.0.0.1\ndaemonize yes\npidfile {pid}\nlogfile {log}\ndir {dir}\nsave \"\"\nappendonly no\n",
        pid = pidfile.display(),
        log = dir.join("redis.log").display(),
        dir = dir.display()
    );
    if cluster {
        // the bus port defaults to port + 10000, inside Linux's ephemeral range (32768+), where
        // an outgoing connection may already hold it; port + 20 stays beside the profile's ports
        let bus = port + CLUSTER_BUS_OFFSET;
        // a cluster formed by an older stack used the default bus ports; it holds only caches,
        // so it is formed again rather than left unable to reach its peers
        let nodes = dir.join("nodes.conf");
        if std::fs::read_to_string(&nodes).is_ok_and(|n| n.contains(&format!("@{}", u32::from(port) + 10_000))) {
            std::fs::remove_file(&nodes)?;
        }
        conf.push_str(&format!(
            "cluster-enabled yes\ncluster-port {bus}\ncluster-config-file nodes.conf\ncluster-node-timeout 5000\n"
        ));
    }
    let conf_path = dir.join("redis.conf");
    std::fs::write(&conf_path, conf)?;
    run(Command::new("redis-server").arg(&conf_path))?;
    for _ in 0..100 {
        if let Some(pid) = read_pid_file(&pidfile) {
            if process::port_answers(port) {
                return Ok(PidRecord {
                    pid,
                    program: "redis-server".into(),
                    stop_signal: StopSignal::Term,
                    stop_order: 10,
                });
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    anyhow::bail!("redis on port {port} did not start (see {})", dir.join("redis.log").display())
}

fn ensure_node(info: &mut StackInfo, component: String, dir: &Path, port: u16, cluster: bool) -> anyhow::Result<()> {
    if info.pids.get(&component).is_some_and(PidRecord::is_running) {
        return Ok(());
    }
    process::ensure_port_free(port, &component)?;
    let record = start_node(dir, port, cluster)?;
    info.pids.insert(component, record);
    Ok(())
}

pub async fn up_single(profile: &Profile, info: &mut StackInfo) -> anyhow::Result<()> {
    let port = profile.redis_single_port;
    ensure_node(info, "redis".into(), &profile.state_dir.join("redis/single"), port, false)?;
    info.redis_single_port = Some(port);
    Ok(())
}

async fn cluster_info(port: u16) -> redis::RedisResult<String> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    let mut conn = client.get_multiplexed_async_connection().await?;
    redis::cmd("CLUSTER").arg("INFO").query_async(&mut conn).await
}

fn field<'a>(info: &'a str, name: &str) -> Option<&'a str> {
    info.lines().find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(':'))
}

pub async fn up_cluster(profile: &Profile, info: &mut StackInfo) -> anyhow::Result<()> {
    let ports = profile.redis_cluster_ports;
    for port in ports {
        ensure_node(
            info,
            format!("redis-cluster-{port}"),
            &profile.state_dir.join(format!("redis/cluster/{port}")),
            port,
            true,
        )?;
    }
    info.redis_cluster_ports = ports.to_vec();

    let first = cluster_info(ports[0]).await?;
    if field(&first, "cluster_slots_assigned") != Some("16384") {
        let mut cmd = Command::new("redis-cli");
        cmd.args(["--cluster", "create"]);
        for p in ports {
            cmd.arg(format!("127.0.0.1:{p}"));
        }
        cmd.args(["--cluster-replicas", "0", "--cluster-yes"]);
        run(&mut cmd).map_err(|e| anyhow::anyhow!("creating the redis cluster: {e}"))?;
    }
    for port in ports {
        process::wait_until(&format!("redis cluster node {port}"), Duration::from_secs(30), || async move {
            cluster_info(port).await.is_ok_and(|i| field(&i, "cluster_state") == Some("ok"))
        })
        .await?;
    }
    Ok(())
}

pub async fn status_single(info: &StackInfo) -> ComponentStatus {
    let port = info.redis_single_port.unwrap_or_default();
    let result: redis::RedisResult<String> = async {
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async(&mut conn).await
    }
    .await;
    ComponentStatus {
        name: format!("redis :{port}"),
        healthy: result.is_ok(),
        detail: result.unwrap_or_else(|e| e.to_string()),
    }
}

pub async fn status_cluster(info: &StackInfo) -> ComponentStatus {
    let ports = info.redis_cluster_ports.iter().map(u16::to_string).collect::<Vec<_>>().join(",");
    let mut problems = Vec::new();
    for &port in &info.redis_cluster_ports {
        match cluster_info(port).await {
            Ok(i)
                if field(&i, "cluster_state") == Some("ok") && field(&i, "cluster_slots_assigned") == Some("16384") => {
            }
            Ok(i) => problems.push(format!("{port}: state {}", field(&i, "cluster_state").unwrap_or("?"))),
            Err(e) => problems.push(format!("{port}: {e}")),
        }
    }
    ComponentStatus {
        name: format!("redis-cluster :{ports}"),
        healthy: problems.is_empty(),
        detail: if problems.is_empty() { "state ok, 16384 slots on 3 masters".into() } else { problems.join("; ") },
    }
}
