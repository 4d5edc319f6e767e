//! Isolation for integration tests on the real test stack (`cargo stack test` starts it and sets
//! `STACK_STATE_DIR`; without it the kit looks in `.stack/test`).
//!
//! Every test gets its own Postgres database (cloned from the migrated template in
//! milliseconds), its own ClickHouse database (DDL applied), and its own Redis key prefix, so the
//! whole suite runs in parallel without tests seeing each other's rows.

/// base64 of the 32-byte HS256 key tests sign session tokens with (coffee signs, the gateway
/// checks).
pub const HMAC_SECRET: &str = "dGVzdC1vbmx5LWhtYWMtc2VjcmV0LTMyLWJ5dGVzLWxvbmc=";

/// base64 of the 32-byte key tests sign tenant headers with (distinct from [`HMAC_SECRET`]).
pub const TENANT_SIGNING_SECRET: &str = "dGVzdC1vbmx5LXRlbmFudC1zaWduaW5nLWtleS0zMmI=";

pub mod bench;
pub mod contract;
pub mod freeze;
pub mod logs;
pub mod redis_cluster;
pub mod relay;

pub use stack::profile::{CH_CLUSTER, CH_CLUSTER_ONE_DOWN, CH_REPLICATED_CLUSTER, CH_REPLICATED_ONE_DOWN};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use platform::config::{ChConfig, ChValidation, PgConfig, RedisClusterConfig, SecretString};
use sqlx::{Connection, PgConnection, PgPool};
use stack::profile::{PG_APP_PASSWORD, PG_APP_USER, PG_TEMPLATE_DATABASE};
use stack::StackInfo;

/// The running test stack, read once from its `stack.json`.
pub fn stack() -> &'static StackInfo {
    static INFO: OnceLock<StackInfo> = OnceLock::new();
    INFO.get_or_init(|| {
        let dir = std::env::var_os("STACK_STATE_DIR").map(PathBuf::from).unwrap_or_else(|| stack::Profile::test().state_dir);
        match StackInfo::load(&dir) {
            Ok(Some(info)) => info,
            _ => panic!(
                "no test stack in {}: run the tests with `cargo stack test` (or start one with `cargo stack up --profile test`)",
                dir.display()
            ),
        }
    })
}

fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// A database name owned by this test process, `t<pid>_<uuid>`: the pid says whose it is, so a
/// later test can drop it once that process has ended ([`sweep_pg`], [`sweep_ch`]).
fn database_name() -> String {
    format!("t{}_{}", std::process::id(), uuid::Uuid::new_v4().simple())
}

/// Whether the test process that made database `name` has ended (a name without a pid is from
/// an older run). A test's databases cannot be dropped by the test itself: its services use
/// them until its process exits (each test is a process of its own under nextest), so the next
/// test to start drops them. Liveness is read from this machine's `/proc`: every test of a
/// stack runs on the machine (and in the PID namespace) that started it.
fn owner_ended(name: &str) -> bool {
    let Some(rest) = name.strip_prefix('t') else { return false };
    let Some((pid, id)) = rest.split_once('_') else { return false };
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return false;
    }
    match pid.parse::<u32>() {
        Ok(pid) => pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        Err(_) => pid.is_empty(),
    }
}

/// Drops the Postgres databases of test processes that have ended, once per process.
async fn sweep_pg(admin: &mut PgConnection) {
    static SWEPT: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    SWEPT
        .get_or_init(|| async {
            let names: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 't%\\_%'")
                .fetch_all(&mut *admin)
                .await
                .unwrap_or_default();
            for name in names.into_iter().filter(|n| owner_ended(n)) {
                // another test may be dropping it too; the loser's error is harmless
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut *admin).await;
            }
        })
        .await;
}

/// Drops the ClickHouse databases of test processes that have ended, once per process and
/// server (`port`: the two-shard tests use both servers).
async fn sweep_ch(server: &clickhouse::Client, port: u16) {
    static SWEPT: Mutex<Vec<u16>> = Mutex::new(Vec::new());
    {
        let mut swept = SWEPT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if swept.contains(&port) {
            return;
        }
        swept.push(port);
    }
    let names: Vec<String> = server
        .query("SELECT name FROM system.databases WHERE startsWith(name, 't')")
        .fetch_all()
        .await
        .unwrap_or_default();
    for name in names.into_iter().filter(|n| owner_ended(n)) {
        let _ = server.query(&format!("DROP DATABASE IF EXISTS {name}")).execute().await;
    }
}

/// A Postgres database owned by one test.
pub struct TestPg {
    pub database: String,
    pub pool: PgPool,
    pub config: PgConfig,
}

impl TestPg {
    pub fn url(&self) -> String {
        stack().pg_url(&self.database)
    }
}

fn pg_config(database: &str) -> PgConfig {
    PgConfig {
        host: "127.0.0.1".into(),
        port: stack().pg_port,
        user: PG_APP_USER.into(),
        password: SecretString::from(PG_APP_PASSWORD),
        database: database.into(),
        max_open_conns: 10,
        max_idle_conns: 0,
    }
}

async fn create_pg(template: Option<&str>) -> TestPg {
    let database = database_name();
    let mut admin =
        PgConnection::connect(&stack().pg_url("postgres")).await.expect("connect to the test stack's postgres");
    sweep_pg(&mut admin).await;
    let statement = match template {
        Some(t) => format!("CREATE DATABASE {database} TEMPLATE {t}"),
        None => format!("CREATE DATABASE {database}"),
    };
    sqlx::query(&statement).execute(&mut admin).await.expect("create test database");
    let config = pg_config(&database);
    // a name of its own, so fault tests that stop or terminate a service's backends
    // (`freeze`) leave the test's connections alone
    let options = store::pg::connect_options(&config, std::time::Duration::from_secs(1)).application_name("testkit");
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(10).connect_lazy_with(options);
    TestPg { database, pool, config }
}

/// A fresh database with every migration applied (a clone of the migrated template).
pub async fn pg() -> TestPg {
    create_pg(Some(PG_TEMPLATE_DATABASE)).await
}

/// A fresh, empty database (no migrations), for testing the migrations themselves.
pub async fn pg_empty() -> TestPg {
    create_pg(None).await
}

/// A ClickHouse database owned by one test.
pub struct TestCh {
    pub database: String,
    pub client: clickhouse::Client,
    pub config: ChConfig,
}

fn ch_config(database: &str) -> ChConfig {
    ChConfig {
        host: stack().ch_host.clone(),
        port: stack().ch_http_port,
        user: stack().ch_user.clone(),
        password: SecretString::from(stack().ch_password.clone()),
        database: database.into(),
        max_open_conns: 10,
        max_execution_time: std::time::Duration::from_secs(60),
        validation: ChValidation::Auto,
        cluster: None,
        replicated: false,
    }
}

async fn create_ch(apply_ddl: bool) -> TestCh {
    let database = database_name();
    let config = ch_config(&database);
    let server =
        store::ch::client_for_database(&config, "default").await.expect("connect to the test stack's clickhouse");
    sweep_ch(&server, config.port).await;
    server.query(&format!("CREATE DATABASE {database}")).execute().await.expect("create test database");
    let client = store::ch::client(&config).await.expect("clickhouse client");
    if apply_ddl {
        store::schema::apply_clickhouse_ddl(&client).await.expect("apply clickhouse DDL");
    }
    TestCh { database, client, config }
}

/// A fresh ClickHouse database with `clickhouse-ddl/` applied.
pub async fn ch() -> TestCh {
    create_ch(true).await
}

/// A fresh, empty ClickHouse database.
pub async fn ch_empty() -> TestCh {
    create_ch(false).await
}

/// A fresh database in the sharded layout (`clickhouse-ddl/sharded/`) over `cluster`: created on
/// both servers of the stack's two-shard cluster, its `Distributed` tables naming `cluster`
/// (`CH_CLUSTER`, or `CH_CLUSTER_ONE_DOWN` for a shard that is down). The client and config
/// talk to the first server, as a service would.
pub async fn ch_sharded(cluster: &str) -> TestCh {
    ch_layout(cluster, false, 2).await
}

/// The same with replicated local tables over `cluster` (`CH_REPLICATED_CLUSTER`: both servers
/// replicas of one shard; `CH_REPLICATED_ONE_DOWN`: the first server and one that is down, so
/// the tables exist on the first server only).
pub async fn ch_replicated(cluster: &str) -> TestCh {
    let servers = if cluster == CH_REPLICATED_ONE_DOWN { 1 } else { 2 };
    ch_layout(cluster, true, servers).await
}

async fn ch_layout(cluster: &str, replicated: bool, servers: usize) -> TestCh {
    let shards = &stack().ch_shards;
    assert_eq!(shards.len(), 2, "the test stack runs two ClickHouse servers (`cargo stack test` starts them)");
    let database = database_name();
    let mut config = ch_config(&database);
    (config.cluster, config.replicated) = (Some(cluster.to_owned()), replicated);
    for port in &shards[..servers] {
        let shard_config = ChConfig { port: *port, ..config.clone() };
        let server = store::ch::client_for_database(&shard_config, "default").await.expect("connect to a server");
        sweep_ch(&server, *port).await;
        server.query(&format!("CREATE DATABASE {database}")).execute().await.expect("create test database");
        let client = store::ch::client(&shard_config).await.expect("clickhouse client");
        store::schema::apply_sharded_clickhouse_ddl(&client, cluster, &database, replicated)
            .await
            .expect("apply sharded DDL");
    }
    let client = store::ch::client(&config).await.expect("clickhouse client");
    TestCh { database, client, config }
}

/// A key prefix no other test uses, e.g. `t_3f2a…:`.
pub fn redis_prefix() -> String {
    format!("{}:", unique("t"))
}

pub fn redis_cluster_config() -> RedisClusterConfig {
    RedisClusterConfig {
        addresses: stack().redis_cluster_addresses().split(',').map(str::to_owned).collect(),
        password: SecretString::from(""),
        // generous: many tests share two cores
        timeout: std::time::Duration::from_secs(1),
        breaker: breaker::Settings::default(),
    }
}

pub fn redis_url() -> String {
    format!("redis://127.0.0.1:{}", stack().redis_single_port.expect("the test stack runs a single redis node"))
}

/// A service serving on a free loopback port until [`Running::stop`].
pub struct Running {
    pub base_url: String,
    shutdown: tokio_util::sync::CancellationToken,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Serves a bound server in the background.
pub fn serve(server: platform::http::Server) -> Running {
    let base_url = format!("http://{}", server.local_addr());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(server.run_until_stopped(shutdown.clone()));
    Running { base_url, shutdown, task }
}

impl Running {
    /// `GET path`: status and body (parsed as JSON when it is JSON, else a JSON string).
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = reqwest::get(format!("{}{path}", self.base_url)).await.expect("request reaches the service");
        let status = resp.status().as_u16();
        let text = resp.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
    }

    /// Graceful shutdown; panics if the server does not stop cleanly within 10 s.
    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(std::time::Duration::from_secs(10), self.task)
            .await
            .expect("server stops within 10s")
            .expect("server task did not panic")
            .expect("server stopped cleanly");
    }
}

/// A `ServerConfig` on a free loopback port.
pub fn server_config() -> platform::config::ServerConfig {
    platform::config::ServerConfig {
        host: "127.0.0.1".into(),
        port: 0,
        request_timeout: std::time::Duration::from_secs(30),
        max_body_bytes: platform::config::DEFAULT_MAX_BODY_BYTES,
    }
}

/// Polls `check` every 20 ms for up to `within`; true once it holds.
pub async fn eventually<F, Fut>(within: std::time::Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    false
}

/// A server that accepts connections and never answers (a frozen process, as its clients see
/// it): its port, and how many connections it accepted.
pub async fn silent_server() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind a free port");
    let port = listener.local_addr().expect("bound").port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            held.push(socket); // open, silent
        }
    });
    (port, accepted)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_database_is_swept_only_once_its_test_process_has_ended() {
        let mine = super::database_name();
        assert!(!super::owner_ended(&mine), "this process runs");
        let ended = format!("t{}_{}", u32::MAX - 1, uuid::Uuid::new_v4().simple());
        assert!(super::owner_ended(&ended), "no such process");
        assert!(super::owner_ended(&format!("t_{}", uuid::Uuid::new_v4().simple())), "an older run's");
        for other in ["bulbul", "template_bulbul", "t1_notauuid", "test", "t_x"] {
            assert!(!super::owner_ended(other), "{other} is not a test database");
        }
    }
}
