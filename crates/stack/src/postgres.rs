//! PostgreSQL: `initdb` once (as the `postgres` user when we are root, since initdb refuses
//! root), start with `pg_ctl`, create the application role, database and test template, and
//! apply `migrations/`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};

use crate::install::{is_root, postgres_bin_dir};
use crate::process::{self, read_pid_file, run, PidRecord, StopSignal};
use crate::profile::*;
use crate::{ComponentStatus, StackInfo};

pub const COMPONENT: &str = "postgres";

/// `<state>/postgres`, unless we are root and the `postgres` OS user cannot traverse the state
/// folder's parents (a checkout under `/root`, say): then a folder of its own under `/var/tmp`,
/// named after the state folder so every run of the profile finds the same data again.
fn dirs(profile: &Profile) -> (PathBuf, PathBuf, PathBuf) {
    let mut root = profile.state_dir.join("postgres");
    if is_root() && run(as_postgres(Path::new("/usr/bin/test")).arg("-x").arg(&profile.state_dir)).is_err() {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in profile.state_dir.as_os_str().as_encoded_bytes() {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        root = PathBuf::from(format!("/var/tmp/bulbul-postgres-{}-{h:016x}", profile.name));
        static WARNED: std::sync::Once = std::sync::Once::new();
        WARNED.call_once(|| tracing::warn!(dir = %root.display(), "the postgres user cannot reach the state folder; keeping its data here"));
    }
    (root.clone(), root.join("data"), root.join("run"))
}

/// A command run as the `postgres` OS user when we are root.
fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn chown_to_postgres(path: &Path) -> anyhow::Result<()> {
    if is_root() {
        run(Command::new("chown").args(["-R", "postgres:postgres"]).arg(path))?;
    }
    Ok(())
}

/// Where this profile's Postgres data lives (inside or, as a fallback, outside the state folder).
pub fn data_root(profile: &Profile) -> PathBuf {
    dirs(profile).0
}

pub async fn up(profile: &Profile, info: &mut StackInfo) -> anyhow::Result<()> {
    let bin = postgres_bin_dir().ok_or_else(|| anyhow::anyhow!("no PostgreSQL server under /usr/lib/postgresql"))?;
    let (root, data, run_dir) = dirs(profile);

    let running = info.pids.get(COMPONENT).is_some_and(PidRecord::is_running);
    if !running {
        process::ensure_port_free(profile.pg_port, "postgres")?;
        std::fs::create_dir_all(&run_dir)?;
        if !data.join("PG_VERSION").exists() {
            init(profile, &bin, &root, &data, &run_dir)?;
        }
        chown_to_postgres(&root)?;
        run(as_postgres(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .arg("-l")
            .arg(root.join("postgres.log"))
            .args(["-w", "-t", "60", "start"]))
        .map_err(|e| anyhow::anyhow!("postgres did not start (see {}): {e}", root.join("postgres.log").display()))?;
        let pid = read_pid_file(&data.join("postmaster.pid"))
            .ok_or_else(|| anyhow::anyhow!("postgres started but wrote no postmaster.pid"))?;
        info.pids.insert(
            COMPONENT.into(),
            PidRecord { pid, program: "postgres".into(), stop_signal: StopSignal::Int, stop_order: 10 },
        );
    }
    info.pg_port = profile.pg_port;
    provision(info).await
}

fn init(profile: &Profile, bin: &Path, root: &Path, data: &Path, run_dir: &Path) -> anyhow::Result<()> {
    let pwfile = root.join("superuser.pw");
    std::fs::write(&pwfile, PG_SUPERUSER_PASSWORD)?;
    chown_to_postgres(root)?;
    run(as_postgres(&bin.join("initdb"))
        .arg("-D")
        .arg(data)
        .args([
            "-U",
            PG_SUPERUSER,
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ])
        .arg(format!("--pwfile={}", pwfile.display())))?;
    std::fs::remove_file(&pwfile)?;

    let mut conf = format!(
        "\n# written by `cargo stack`\nlisten_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n\
         max_connections = 300\nshared_buffers = 512MB\nwork_mem = 64MB\nmaintenance_work_mem = 512MB\n\
         effective_cache_size = 8GB\nmax_wal_size = 4GB\nlog_min_duration_statement = 1000\n",
        profile.pg_port,
        run_dir.display()
    );
    if profile.fast_and_unsafe {
        conf.push_str("fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n");
    }
    let conf_path = data.join("postgresql.conf");
    let mut existing = std::fs::read_to_string(&conf_path)?;
    existing.push_str(&conf);
    std::fs::write(&conf_path, existing)?;
    Ok(())
}

/// Creates the role, the application database and the test template (each only if missing),
/// then migrates both databases.
async fn provision(info: &StackInfo) -> anyhow::Result<()> {
    let url = info.pg_admin_url();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut admin = loop {
        match PgConnection::connect(&url).await {
            Ok(c) => break c,
            Err(e) if std::time::Instant::now() >= deadline => anyhow::bail!("cannot connect to postgres: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    };

    let role_exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)")
        .bind(PG_APP_USER)
        .fetch_one(&mut admin)
        .await?;
    if !role_exists {
        sqlx::query(&format!("CREATE ROLE {PG_APP_USER} LOGIN CREATEDB PASSWORD '{PG_APP_PASSWORD}'"))
            .execute(&mut admin)
            .await?;
    }
    for db in [PG_APP_DATABASE, PG_TEMPLATE_DATABASE] {
        let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(db)
            .fetch_one(&mut admin)
            .await?;
        if !exists {
            sqlx::query(&format!("CREATE DATABASE {db} OWNER {PG_APP_USER}")).execute(&mut admin).await?;
        }
        let pool = PgPoolOptions::new().max_connections(1).connect(&info.pg_url(db)).await?;
        store::schema::MIGRATOR.run(&pool).await.map_err(|e| anyhow::anyhow!("migrating {db}: {e}"))?;
        pool.close().await;
    }
    admin.close().await?;
    Ok(())
}

pub async fn status(info: &StackInfo) -> ComponentStatus {
    let detail = match PgConnection::connect(&info.pg_url(PG_APP_DATABASE)).await {
        Ok(mut c) => match sqlx::query_scalar::<_, String>("SELECT version()").fetch_one(&mut c).await {
            Ok(v) => Ok(v.split(" on ").next().unwrap_or(&v).to_owned()),
            Err(e) => Err(e.to_string()),
        },
        Err(e) => Err(e.to_string()),
    };
    ComponentStatus {
        name: format!("postgres :{}", info.pg_port),
        healthy: detail.is_ok(),
        detail: detail.unwrap_or_else(|e| e),
    }
}
