//! Port layouts and the `stack.json` record of a running stack.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::process::PidRecord;

/// Where a stack lives and which ports it uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub name: String,
    pub state_dir: PathBuf,
    pub pg_port: u16,
    pub redis_single_port: u16,
    pub redis_cluster_ports: [u16; 3],
    pub ch_http_port: u16,
    pub ch_tcp_port: u16,
    /// The second ClickHouse server of the two-shard cluster (`bulbul_2shards`); 0 in a record
    /// written before it existed.
    #[serde(default)]
    pub ch_shard2_http_port: u16,
    #[serde(default)]
    pub ch_shard2_tcp_port: u16,
    /// The ports ClickHouse's replicas fetch parts from each other on (`interserver_http_port`),
    /// one per server.
    #[serde(default)]
    pub ch_interserver_ports: [u16; 2],
    /// ZooKeeper, for the replicated layout.
    #[serde(default)]
    pub zookeeper_port: u16,
    /// Trade durability for speed (fsync off): right for throw-away test data.
    pub fast_and_unsafe: bool,
}

/// The repository root (this crate lives in `crates/stack`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository root exists")
}

impl Profile {
    /// The developer stack, on the servers' customary ports.
    pub fn dev() -> Self {
        Self {
            name: "dev".into(),
            state_dir: repo_root().join(".stack/dev"),
            pg_port: 5432,
            redis_single_port: 6379,
            redis_cluster_ports: [7000, 7001, 7002],
            ch_http_port: 8123,
            ch_tcp_port: 9000,
            ch_shard2_http_port: 8124,
            ch_shard2_tcp_port: 9001,
            ch_interserver_ports: [9009, 9010],
            zookeeper_port: 2181,
            fast_and_unsafe: false,
        }
    }

    /// The test stack: its own ports and state, so it can run beside the dev stack.
    pub fn test() -> Self {
        Self { fast_and_unsafe: true, ..Self::with_base("test", repo_root().join(".stack/test"), 25000) }
    }

    /// A stack whose ports all derive from `base` (cluster bus ports are +10000, so keep
    /// `base` below 55000).
    pub fn with_base(name: &str, state_dir: PathBuf, base: u16) -> Self {
        assert!(base < 55_000, "port base {base} leaves no room for cluster bus ports");
        Self {
            name: name.into(),
            state_dir,
            pg_port: base,
            redis_single_port: base + 1,
            redis_cluster_ports: [base + 10, base + 11, base + 12],
            ch_http_port: base + 20,
            ch_tcp_port: base + 21,
            ch_shard2_http_port: base + 22,
            ch_shard2_tcp_port: base + 23,
            ch_interserver_ports: [base + 26, base + 27],
            // base + 30.. are the Redis Cluster's bus ports
            zookeeper_port: base + 40,
            fast_and_unsafe: true,
        }
    }

    pub fn by_name(name: &str) -> anyhow::Result<Self> {
        match name {
            "dev" => Ok(Self::dev()),
            "test" => Ok(Self::test()),
            other => anyhow::bail!("unknown profile {other:?}: expected dev or test"),
        }
    }
}

/// The credentials every stack uses. They guard loopback-only servers holding generated data.
pub const PG_SUPERUSER: &str = "postgres";
pub const PG_SUPERUSER_PASSWORD: &str = "postgres";
pub const PG_APP_USER: &str = "bulbul";
pub const PG_APP_PASSWORD: &str = "bulbul";
pub const PG_APP_DATABASE: &str = "bulbul";
/// Migrated, never connected to: tests clone it (`CREATE DATABASE … TEMPLATE`).
pub const PG_TEMPLATE_DATABASE: &str = "bulbul_template";
pub const CH_DATABASE: &str = "bulbul";
/// The dev stack's database in the sharded layout (`cargo stack dev --shards 2`), beside the
/// single-node one.
pub const CH_SHARDED_DATABASE: &str = "bulbul_sharded";
/// The cluster of the stack's two ClickHouse servers (one shard each).
pub const CH_CLUSTER: &str = "bulbul_2shards";
/// A cluster whose second shard is a port where nothing listens: a shard that is down, for the
/// tests.
pub const CH_CLUSTER_ONE_DOWN: &str = "bulbul_2shards_one_down";
/// One shard held by both servers as replicas (`ReplicatedMergeTree` over ZooKeeper).
pub const CH_REPLICATED_CLUSTER: &str = "bulbul_replicated";
/// One shard whose second replica is a port where nothing listens: a replica that is down.
pub const CH_REPLICATED_ONE_DOWN: &str = "bulbul_replicated_one_down";

/// What is running: written to `<state>/stack.json` by `up`, read by `down`, `status`, the
/// test kit and `env`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StackInfo {
    pub profile: Profile,
    pub pg_port: u16,
    pub redis_single_port: Option<u16>,
    pub redis_cluster_ports: Vec<u16>,
    pub ch_http_port: u16,
    pub ch_version: Option<String>,
    /// Where ClickHouse's HTTP interface listens: the server this tool started (loopback) or
    /// an existing one named by `STACK_CLICKHOUSE_URL` ([`crate::clickhouse::External`]).
    #[serde(default = "loopback")]
    pub ch_host: String,
    #[serde(default = "default_ch_user")]
    pub ch_user: String,
    /// Test and dev credentials only (an operator's own server is named by environment).
    #[serde(default)]
    pub ch_password: String,
    /// ClickHouse is an existing server this tool neither started nor stops.
    #[serde(default)]
    pub ch_external: bool,
    /// The HTTP ports of the shards of [`CH_CLUSTER`] when both servers run (empty: one server).
    #[serde(default)]
    pub ch_shards: Vec<u16>,
    /// The services' ClickHouse database, and its cluster when it is in the sharded layout.
    #[serde(default = "default_ch_database")]
    pub ch_database: String,
    #[serde(default)]
    pub ch_cluster: Option<String>,
    /// component name → the process started for it
    pub pids: BTreeMap<String, PidRecord>,
}

impl StackInfo {
    pub fn path(state_dir: &Path) -> PathBuf {
        state_dir.join("stack.json")
    }

    pub fn load(state_dir: &Path) -> anyhow::Result<Option<Self>> {
        let path = Self::path(state_dir);
        match std::fs::read(&path) {
            Ok(bytes) => {
                Ok(Some(serde_json::from_slice(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow::anyhow!("{}: {e}", path.display())),
        }
    }

    pub fn load_or_new(profile: &Profile) -> anyhow::Result<Self> {
        Ok(match Self::load(&profile.state_dir)? {
            Some(mut info) => {
                info.profile = profile.clone();
                info
            }
            None => Self {
                profile: profile.clone(),
                pg_port: profile.pg_port,
                redis_single_port: None,
                redis_cluster_ports: Vec::new(),
                ch_http_port: profile.ch_http_port,
                ch_version: None,
                ch_host: loopback(),
                ch_user: default_ch_user(),
                ch_password: String::new(),
                ch_external: false,
                ch_shards: Vec::new(),
                ch_database: default_ch_database(),
                ch_cluster: None,
                pids: BTreeMap::new(),
            },
        })
    }

    pub fn save(&self) -> anyhow::Result<()> {
        let path = Self::path(&self.profile.state_dir);
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec_pretty(self)?)?;
        std::fs::rename(tmp, path)?;
        Ok(())
    }

    /// Postgres URL for a database, as the application role.
    pub fn pg_url(&self, database: &str) -> String {
        format!("postgres://{PG_APP_USER}:{PG_APP_PASSWORD}@127.0.0.1:{}/{database}", self.pg_port)
    }

    pub fn pg_admin_url(&self) -> String {
        format!("postgres://{PG_SUPERUSER}:{PG_SUPERUSER_PASSWORD}@127.0.0.1:{}/postgres", self.pg_port)
    }

    pub fn ch_url(&self) -> String {
        format!("http://{}:{}", self.ch_host, self.ch_http_port)
    }

    /// A client of the stack's ClickHouse server (its default database, no row validation:
    /// the stack's own statements read plain values from any release).
    pub fn ch_client(&self) -> clickhouse::Client {
        clickhouse::Client::default()
            .with_url(self.ch_url())
            .with_user(&self.ch_user)
            .with_password(&self.ch_password)
            .with_validation(false)
    }

    /// [`StackInfo::ch_client`] on the services' database; in the sharded layout, inserts wait
    /// for every shard (as the services' do).
    pub fn ch_database_client(&self) -> clickhouse::Client {
        let client = self.ch_client().with_database(&self.ch_database);
        match self.ch_cluster {
            Some(_) => client.with_setting("insert_distributed_sync", "1"),
            None => client,
        }
    }

    pub fn redis_cluster_addresses(&self) -> String {
        self.redis_cluster_ports.iter().map(|p| format!("127.0.0.1:{p}")).collect::<Vec<_>>().join(",")
    }

    /// The services' environment (original variable names) for this stack.
    pub fn service_env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            ("PG_HOST", "127.0.0.1".to_owned()),
            ("PG_PORT", self.pg_port.to_string()),
            ("PG_USER", PG_APP_USER.to_owned()),
            ("PG_PASS", PG_APP_PASSWORD.to_owned()),
            ("PG_DB", PG_APP_DATABASE.to_owned()),
            ("CH_HOST", self.ch_host.clone()),
            ("CH_PORT", self.ch_http_port.to_string()),
            ("CH_USER", self.ch_user.clone()),
            ("CH_PASS", self.ch_password.clone()),
            ("CH_DB", self.ch_database.clone()),
            ("REDIS_CLUSTER_ADDRESSES", self.redis_cluster_addresses()),
        ];
        if let Some(p) = self.redis_single_port {
            env.push(("REDIS_URL", format!("redis://127.0.0.1:{p}")));
        }
        if let Some(cluster) = &self.ch_cluster {
            env.push(("CH_CLUSTER", cluster.clone()));
        }
        env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }
}

fn loopback() -> String {
    "127.0.0.1".to_owned()
}

fn default_ch_database() -> String {
    CH_DATABASE.to_owned()
}

fn default_ch_user() -> String {
    "default".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dev_and_test_profiles_never_share_a_port() {
        let ports = |p: &Profile| {
            let mut v = vec![
                p.pg_port,
                p.redis_single_port,
                p.ch_http_port,
                p.ch_tcp_port,
                p.ch_shard2_http_port,
                p.ch_shard2_tcp_port,
                p.ch_shard2_tcp_port + 1,
                p.ch_interserver_ports[0],
                p.ch_interserver_ports[1],
                p.zookeeper_port,
            ];
            v.extend(p.redis_cluster_ports);
            // cluster bus ports
            v.extend(p.redis_cluster_ports.iter().map(|x| x + 10000));
            v
        };
        let (dev, test) = (ports(&Profile::dev()), ports(&Profile::test()));
        for p in &dev {
            assert!(!test.contains(p), "port {p} is used by both profiles");
        }
        assert_ne!(Profile::dev().state_dir, Profile::test().state_dir);
    }
}
