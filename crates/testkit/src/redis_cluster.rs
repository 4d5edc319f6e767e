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
    children: Vec<Child>,
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
        let mut cluster = Self { dir, ports, children: Vec::new() };
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
        for port in self.ports {
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
            self.children.push(child);
        }
        for port in self.ports {
            for _ in 0..100 {
                if ping(port) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
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
        }
    }

    /// Kills every node (SIGKILL: an outage, not a shutdown).
    pub fn stop(&mut self) {
        for mut child in self.children.drain(..) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the nodes again with their saved cluster configuration and waits until the
    /// cluster is whole.
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
