//! ClickHouse: a private config (ports, paths, loopback only) in the state folder, the server
//! started as a daemon, the `bulbul` database created and `clickhouse-ddl/` applied.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::process::{self, read_pid_file, run, PidRecord, StopSignal};
use crate::profile::{
    Profile, CH_CLUSTER, CH_CLUSTER_ONE_DOWN, CH_DATABASE, CH_REPLICATED_CLUSTER, CH_REPLICATED_ONE_DOWN,
    CH_SHARDED_DATABASE,
};
use crate::{ComponentStatus, StackInfo};

pub const COMPONENT: &str = "clickhouse";

/// One ClickHouse server of the stack: the first (the single node, and shard 1) or the second
/// (shard 2 of [`CH_CLUSTER`], started with `--shards 2`).
struct Server {
    component: &'static str,
    folder: &'static str,
    http: u16,
    tcp: u16,
    interserver: u16,
    /// Its name as a replica (the `{replica}` macro of replicated tables).
    replica: &'static str,
}

fn servers(profile: &Profile) -> [Server; 2] {
    [
        Server {
            component: COMPONENT,
            folder: "clickhouse",
            http: profile.ch_http_port,
            tcp: profile.ch_tcp_port,
            interserver: profile.ch_interserver_ports[0],
            replica: "r1",
        },
        Server {
            component: "clickhouse-shard2",
            folder: "clickhouse-shard2",
            http: profile.ch_shard2_http_port,
            tcp: profile.ch_shard2_tcp_port,
            interserver: profile.ch_interserver_ports[1],
            replica: "r2",
        },
    ]
}

fn write_config(profile: &Profile, server: &Server, root: &Path) -> anyhow::Result<std::path::PathBuf> {
    for sub in ["data", "tmp", "user_files", "format_schemas"] {
        std::fs::create_dir_all(root.join(sub))?;
    }
    let r = root.display();
    let config = format!(
        r#"<?xml version="1.0"?>
<!-- written by `cargo stack`; works on ClickHouse 18.16 and current releases -->
<yandex>
  <logger><level>warning</level><log>{r}/clickhouse.log</log><errorlog>{r}/clickhouse.err.log</errorlog><console>0</console></logger>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{r}/data/</path>
  <tmp_path>{r}/tmp/</tmp_path>
  <user_files_path>{r}/user_files/</user_files_path>
  <format_schema_path>{r}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>1073741824</mark_cache_size>
  <max_concurrent_queries>200</max_concurrent_queries>
  <keep_alive_timeout>3</keep_alive_timeout>
  <remote_servers>
    <{cluster}>
      <shard><replica><host>127.0.0.1</host><port>{tcp1}</port></replica></shard>
      <shard><replica><host>127.0.0.1</host><port>{tcp2}</port></replica></shard>
    </{cluster}>
    <!-- for the tests: the second shard's port is one where no server listens -->
    <{one_down}>
      <shard><replica><host>127.0.0.1</host><port>{tcp1}</port></replica></shard>
      <shard><replica><host>127.0.0.1</host><port>{nothing}</port></replica></shard>
    </{one_down}>
    <!-- one shard, both servers its replicas (ReplicatedMergeTree keeps them in step) -->
    <{replicated}>
      <shard><internal_replication>true</internal_replication>
        <replica><host>127.0.0.1</host><port>{tcp1}</port></replica>
        <replica><host>127.0.0.1</host><port>{tcp2}</port></replica>
      </shard>
    </{replicated}>
    <!-- for the tests: the second replica is a port where no server listens -->
    <{replicated_one_down}>
      <shard><internal_replication>true</internal_replication>
        <replica><host>127.0.0.1</host><port>{tcp1}</port></replica>
        <replica><host>127.0.0.1</host><port>{nothing}</port></replica>
      </shard>
    </{replicated_one_down}>
  </remote_servers>
  <zookeeper><node><host>127.0.0.1</host><port>{zookeeper}</port></node></zookeeper>
  <macros><shard>01</shard><replica>{replica}</replica></macros>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <interserver_http_port>{interserver}</interserver_http_port>
</yandex>
"#,
        http = server.http,
        tcp = server.tcp,
        cluster = CH_CLUSTER,
        one_down = CH_CLUSTER_ONE_DOWN,
        tcp1 = profile.ch_tcp_port,
        tcp2 = profile.ch_shard2_tcp_port,
        nothing = profile.ch_shard2_tcp_port + 1,
        replicated = CH_REPLICATED_CLUSTER,
        replicated_one_down = CH_REPLICATED_ONE_DOWN,
        zookeeper = profile.zookeeper_port,
        replica = server.replica,
        interserver = server.interserver,
    );
    let users = r#"<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>8000000000</max_memory_usage></default></profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
"#;
    let config_path = root.join("config.xml");
    std::fs::write(&config_path, config)?;
    std::fs::write(root.join("users.xml"), users)?;
    Ok(config_path)
}

async fn ping(port: u16) -> bool {
    match reqwest::get(format!("http://127.0.0.1:{port}/ping")).await {
        Ok(r) => r.status().is_success(),
        Err(_) => false,
    }
}

/// An existing ClickHouse server the stack uses instead of starting one, from
/// `STACK_CLICKHOUSE_URL` (`http://host:port`) with `STACK_CLICKHOUSE_USER` (default `default`)
/// and `STACK_CLICKHOUSE_PASSWORD`: an operator runs the dev stack or the whole test suite on
/// the release they deploy. Each test creates and drops databases of its own there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct External {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
}

impl External {
    pub fn from_env() -> anyhow::Result<Option<Self>> {
        let Ok(url) = std::env::var("STACK_CLICKHOUSE_URL") else { return Ok(None) };
        let parsed =
            reqwest::Url::parse(&url).map_err(|e| anyhow::anyhow!("STACK_CLICKHOUSE_URL={url:?} is not a URL: {e}"))?;
        anyhow::ensure!(
            parsed.scheme() == "http",
            "STACK_CLICKHOUSE_URL must be http://host:port (ClickHouse's HTTP interface)"
        );
        let host = parsed.host_str().ok_or_else(|| anyhow::anyhow!("STACK_CLICKHOUSE_URL names no host"))?;
        Ok(Some(Self {
            host: host.to_owned(),
            port: parsed.port().unwrap_or(8123),
            user: std::env::var("STACK_CLICKHOUSE_USER").unwrap_or_else(|_| "default".to_owned()),
            password: std::env::var("STACK_CLICKHOUSE_PASSWORD").unwrap_or_default(),
        }))
    }

    /// Points `info` at this server.
    pub fn apply(&self, info: &mut StackInfo) {
        info.ch_host.clone_from(&self.host);
        info.ch_http_port = self.port;
        info.ch_user.clone_from(&self.user);
        info.ch_password.clone_from(&self.password);
        info.ch_external = true;
    }
}

/// Starts the stack's ClickHouse (or uses an existing one, [`External`]): one server, or with
/// `shards == 2` both servers of [`CH_CLUSTER`], and prepares the databases.
pub async fn up(profile: &Profile, info: &mut StackInfo, shards: u8) -> anyhow::Result<()> {
    anyhow::ensure!(matches!(shards, 1 | 2), "--shards takes 1 or 2, not {shards}");
    if let Some(external) = External::from_env()? {
        anyhow::ensure!(shards == 1, "an existing ClickHouse (STACK_CLICKHOUSE_URL) is used as one server");
        external.apply(info);
        return prepare(info).await;
    }
    let servers = servers(profile);
    if shards == 2 {
        // the replicated layout's coordination, before the servers that use it
        crate::zookeeper::up(profile, info).await?;
    }
    for server in &servers[..usize::from(shards)] {
        start(profile, server, info).await?;
    }
    info.ch_http_port = profile.ch_http_port;
    (info.ch_host, info.ch_user, info.ch_password, info.ch_external) =
        ("127.0.0.1".into(), "default".into(), String::new(), false);
    info.ch_shards = if shards == 2 { servers.iter().map(|s| s.http).collect() } else { Vec::new() };
    prepare(info).await
}

async fn start(profile: &Profile, server: &Server, info: &mut StackInfo) -> anyhow::Result<()> {
    let root = profile.state_dir.join(server.folder);
    // written also for a running server, which rereads `remote_servers` by itself
    let config = write_config(profile, server, &root)?;
    if info.pids.get(server.component).is_some_and(PidRecord::is_running) {
        return Ok(());
    }
    process::ensure_port_free(server.http, "clickhouse http")?;
    process::ensure_port_free(server.tcp, "clickhouse tcp")?;
    let pidfile = root.join("clickhouse.pid");
    let _ = std::fs::remove_file(&pidfile);
    run(Command::new("clickhouse-server")
        .arg(format!("--config-file={}", config.display()))
        .arg(format!("--pid-file={}", pidfile.display()))
        .arg("--daemon")
        .current_dir(&root))?;
    let port = server.http;
    process::wait_until(server.component, Duration::from_secs(60), || ping(port))
        .await
        .map_err(|e| anyhow::anyhow!("{e} (see {})", root.join("clickhouse.err.log").display()))?;
    let pid = read_pid_file(&pidfile).ok_or_else(|| anyhow::anyhow!("clickhouse wrote no pid file"))?;
    info.pids.insert(
        server.component.into(),
        PidRecord { pid, program: "clickhouse".into(), stop_signal: StopSignal::Term, stop_order: 10 },
    );
    Ok(())
}

/// A client of shard `port` of the stack's servers.
pub fn shard_client(info: &StackInfo, port: u16) -> clickhouse::Client {
    clickhouse::Client::default().with_url(format!("http://{}:{port}", info.ch_host)).with_validation(false)
}

/// Records the server's version, creates the stack's database and applies the DDL.
async fn prepare(info: &mut StackInfo) -> anyhow::Result<()> {
    let server = info.ch_client();
    info.ch_version = Some(store::ch::server_version(&server).await?);
    for port in info.ch_shards.clone() {
        let shard = shard_client(info, port);
        // a server that was already running rereads `remote_servers` within a few seconds
        let knows_cluster = || async {
            shard
                .query("SELECT count() FROM system.clusters WHERE cluster = ?")
                .bind(CH_CLUSTER)
                .fetch_one::<u64>()
                .await
                .is_ok_and(|n| n > 0)
        };
        process::wait_until("clickhouse cluster config", Duration::from_secs(30), knows_cluster).await?;
        shard.query(&format!("CREATE DATABASE IF NOT EXISTS {CH_SHARDED_DATABASE}")).execute().await?;
        store::schema::apply_sharded_clickhouse_ddl(
            &shard.with_database(CH_SHARDED_DATABASE),
            CH_CLUSTER,
            CH_SHARDED_DATABASE,
            false,
        )
        .await?;
    }
    server.query(&format!("CREATE DATABASE IF NOT EXISTS {CH_DATABASE}")).execute().await?;
    store::schema::apply_clickhouse_ddl(&server.with_database(CH_DATABASE)).await?;
    Ok(())
}

pub async fn status(info: &StackInfo) -> Vec<ComponentStatus> {
    let mut out = Vec::new();
    let shards: Vec<(String, clickhouse::Client)> = if info.ch_shards.is_empty() {
        vec![(format!("clickhouse {}:{}", info.ch_host, info.ch_http_port), info.ch_client())]
    } else {
        info.ch_shards
            .iter()
            .enumerate()
            .map(|(i, port)| (format!("clickhouse shard {} :{port}", i + 1), shard_client(info, *port)))
            .collect()
    };
    for (name, client) in shards {
        let result = store::ch::server_version(&client).await;
        out.push(ComponentStatus {
            name,
            healthy: result.is_ok(),
            detail: result.map_or_else(|e| e.to_string(), |v| format!("version {v}")),
        });
    }
    out
}
