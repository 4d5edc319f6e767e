//! A Redis Cluster of the test's own: three real `redis-server` processes on free ports, slots
//! assigned by `redis-cli --cluster create`, that a test may stop and start again (for
//! degraded-mode tests, which cannot stop the shared stack's cluster under other tests).
//! Killed when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use platform::config::{RedisClusterConfig, SecretString};

pub struct PrivateCluster {
    dir: PathBuf,
    pub ports: [u16; 3],
    /// Each node's process, by the index of its port; `None` while it is stopped.
    children: [Option<Child>; 3],
}

/// A port `p` with `p + 20` (its cluster bus) also free.
fn free_port_pair() -> u16 {
    loop {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        if port < 65_000 && std::net::TcpListener::bind(("127.0.0.1", port + 20)).is_ok() {
            return port;
        }
    }
}

fn ping(port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
}

impl PrivateCluster {
    pub async fn start() -> Self {
        let dir = std::env::temp_dir().join(format!("bulbul-{}", crate::unique("cluster")));
        let ports = [free_port_pair(), free_port_pair(), free_port_pair()];
        let mut cluster = Self { dir, ports, children: [None, None, None] };
        cluster.start_nodes();
        let mut create = Command::new("redis-cli");
        create.args(["--cluster", "create"]);
        for p in ports {
            create.arg(format!("127.0.0.1:{p}"));
        }
        let status = create
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("redis-cli runs");
        assert!(status.success(), "redis-cli --cluster create failed");
        cluster.wait_ok().await;
        cluster
    }

    fn start_nodes(&mut self) {
        for node in 0..self.ports.len() {
            self.start_node(node);
        }
    }

    /// Starts node `node` (an index into `ports`) unless it runs, and waits until it accepts
    /// connections.
    fn start_node(&mut self, node: usize) {
        if self.children[node].is_some() {
            return;
        }
        let port = self.ports[node];
        let dir = self.dir.join(port.to_string());
        std::fs::create_dir_all(&dir).expect("cluster dir");
        let conf = format!(
            "port {port}\nbind 127.0.0.1\ndir {dir}\nsave \"\"\nappendonly no\ncluster-enabled yes\n\
             cluster-port {bus}\ncluster-config-file nodes.conf\ncluster-node-timeout 2000\n",
            dir = dir.display(),
            bus = port + 20
        );
        std::fs::write(dir.join("redis.conf"), conf).expect("redis.conf");
        let child = Command::new("redis-server")
            .arg(dir.join("redis.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.children[node] = Some(child);
        for _ in 0..100 {
            if ping(port) {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    async fn wait_ok(&self) {
        for port in self.ports {
            let mut ok = false;
            for _ in 0..300 {
                let info: redis::RedisResult<String> = async {
                    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
                    let mut conn = client.get_multiplexed_async_connection().await?;
                    redis::cmd("CLUSTER").arg("INFO").query_async(&mut conn).await
                }
                .await;
                if info.is_ok_and(|i| i.contains("cluster_state:ok")) {
                    ok = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert!(ok, "private cluster node {port} never reached cluster_state:ok");
        }
    }

    pub fn config(&self) -> RedisClusterConfig {
        RedisClusterConfig {
            addresses: self.ports.iter().map(|p| format!("127.0.0.1:{p}")).collect(),
            password: SecretString::from(""),
            timeout: Duration::from_millis(300),
            // a restarted cluster is tried again within a second
            breaker: breaker::Settings { failures: 5, cooldown: Duration::from_secs(1) },
        }
    }

    /// Kills every node (SIGKILL: an outage, not a shutdown).
    pub fn stop(&mut self) {
        for node in 0..self.ports.len() {
            self.stop_node(node);
        }
    }

    /// Kills node `node` (an index into `ports`) alone: one master of three lost, its slots
    /// unserved (and, once `cluster-node-timeout` passes, the others refuse with CLUSTERDOWN, as
    /// a cluster that requires full coverage does).
    pub fn stop_node(&mut self, node: usize) {
        if let Some(mut child) = self.children[node].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes every node (SIGSTOP) until the guard is dropped: a cluster that accepts
    /// connections and never answers, as a stalled host looks to its clients.
    pub fn freeze(&self) -> crate::freeze::Frozen {
        let pids = self.children.iter().flatten().map(|c| i32::try_from(c.id()).expect("a pid")).collect();
        crate::freeze::Frozen::stop(pids)
    }

    /// The node that serves `key`'s slot (an index into `ports`), as the cluster says now.
    pub async fn node_of(&self, key: &str) -> usize {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}", self.ports[0])).expect("a node url");
        let mut conn = client.get_multiplexed_async_connection().await.expect("node reachable");
        let slot: u16 = redis::cmd("CLUSTER").arg("KEYSLOT").arg(key).query_async(&mut conn).await.expect("KEYSLOT");
        let nodes: String = redis::cmd("CLUSTER").arg("NODES").query_async(&mut conn).await.expect("CLUSTER NODES");
        for line in nodes.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            let Some(port) = fields.get(1).and_then(|a| a.split(['@', ':']).nth(1)).and_then(|p| p.parse::<u16>().ok())
            else {
                continue;
            };
            let owns = fields.iter().skip(8).any(|range| {
                let (lo, hi) = range.split_once('-').unwrap_or((range, range));
                matches!((lo.parse::<u16>(), hi.parse::<u16>()), (Ok(lo), Ok(hi)) if (lo..=hi).contains(&slot))
            });
            if owns {
                return self.ports.iter().position(|p| *p == port).expect("one of this cluster's nodes");
            }
        }
        panic!("no node serves slot {slot}");
    }

    /// Starts the stopped nodes again with their saved cluster configuration and waits until
    /// the cluster is whole.
    pub async fn restart(&mut self) {
        self.start_nodes();
        self.wait_ok().await;
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
