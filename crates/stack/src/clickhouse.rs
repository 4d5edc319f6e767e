//! ClickHouse: a private config (ports, paths, loopback only) in the state folder, the server
//! started as a daemon, the `bulbul` database created and `clickhouse-ddl/` applied.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::process::{self, read_pid_file, run, PidRecord, StopSignal};
use crate::profile::{Profile, CH_DATABASE};
use crate::{ComponentStatus, StackInfo};

pub const COMPONENT: &str = "clickhouse";

fn write_config(profile: &Profile, root: &Path) -> anyhow::Result<std::path::PathBuf> {
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
</yandex>
"#,
        http = profile.ch_http_port,
        tcp = profile.ch_tcp_port
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

pub async fn up(profile: &Profile, info: &mut StackInfo) -> anyhow::Result<()> {
    if let Some(external) = External::from_env()? {
        external.apply(info);
        return prepare(info).await;
    }
    let root = profile.state_dir.join("clickhouse");
    if !info.pids.get(COMPONENT).is_some_and(PidRecord::is_running) {
        process::ensure_port_free(profile.ch_http_port, "clickhouse http")?;
        process::ensure_port_free(profile.ch_tcp_port, "clickhouse tcp")?;
        let config = write_config(profile, &root)?;
        let pidfile = root.join("clickhouse.pid");
        let _ = std::fs::remove_file(&pidfile);
        run(Command::new("clickhouse-server")
            .arg(format!("--config-file={}", config.display()))
            .arg(format!("--pid-file={}", pidfile.display()))
            .arg("--daemon")
            .current_dir(&root))?;
        let port = profile.ch_http_port;
        process::wait_until("clickhouse", Duration::from_secs(60), || ping(port))
            .await
            .map_err(|e| anyhow::anyhow!("{e} (see {})", root.join("clickhouse.err.log").display()))?;
        let pid = read_pid_file(&pidfile).ok_or_else(|| anyhow::anyhow!("clickhouse wrote no pid file"))?;
        info.pids.insert(
            COMPONENT.into(),
            PidRecord { pid, program: "clickhouse".into(), stop_signal: StopSignal::Term, stop_order: 10 },
        );
    }
    info.ch_http_port = profile.ch_http_port;
    (info.ch_host, info.ch_user, info.ch_password, info.ch_external) =
        ("127.0.0.1".into(), "default".into(), String::new(), false);
    prepare(info).await
}

/// Records the server's version, creates the stack's database and applies the DDL.
async fn prepare(info: &mut StackInfo) -> anyhow::Result<()> {
    let server = info.ch_client();
    info.ch_version = Some(store::ch::server_version(&server).await?);
    server.query(&format!("CREATE DATABASE IF NOT EXISTS {CH_DATABASE}")).execute().await?;
    store::schema::apply_clickhouse_ddl(&server.with_database(CH_DATABASE)).await?;
    Ok(())
}

pub async fn status(info: &StackInfo) -> ComponentStatus {
    let result = store::ch::server_version(&info.ch_client()).await;
    ComponentStatus {
        name: format!("clickhouse {}:{}", info.ch_host, info.ch_http_port),
        healthy: result.is_ok(),
        detail: result.map_or_else(|e| e.to_string(), |v| format!("version {v}")),
    }
}
