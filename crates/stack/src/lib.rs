//! The local stack of real servers, started as plain processes on loopback (no Docker here):
//! PostgreSQL 15, a single Redis node, a 3-node Redis Cluster and ClickHouse.
//!
//! Each [`Profile`] (dev, test, or any port base) owns a state folder under `.stack/` holding
//! the servers' data, logs, configs, and `stack.json`: the ports, credentials and the pids this
//! tool started. `up` is idempotent, `down` stops only recorded pids (after checking each still
//! runs the expected program), `status` probes every server.

pub mod chdb;
pub mod clickhouse;
pub mod dashboard;
pub mod fuzz;
pub mod install;
pub mod postgres;
pub mod process;
pub mod profile;
pub mod redis;
pub mod services;
pub mod zookeeper;

pub use profile::{Profile, StackInfo};

use std::path::Path;

/// What `up` should start beyond Postgres and ClickHouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Components {
    pub redis_single: bool,
    pub redis_cluster: bool,
    /// ClickHouse servers: 1, or 2 for the two-shard cluster (`bulbul_2shards`).
    pub ch_shards: u8,
}

impl Default for Components {
    fn default() -> Self {
        Self { redis_single: true, redis_cluster: true, ch_shards: 1 }
    }
}

impl Components {
    /// What the tests and benchmarks need: everything, the second ClickHouse shard included.
    pub fn all() -> Self {
        Self { ch_shards: 2, ..Self::default() }
    }
}

/// Installs what is missing, starts every server not yet running, and applies both schemas.
pub async fn up(profile: &Profile, components: Components) -> anyhow::Result<StackInfo> {
    install::ensure_installed()?;
    std::fs::create_dir_all(&profile.state_dir)?;
    let mut info = StackInfo::load_or_new(profile)?;

    postgres::up(profile, &mut info).await?;
    info.save()?;
    if components.redis_single {
        redis::up_single(profile, &mut info).await?;
        info.save()?;
    }
    if components.redis_cluster {
        redis::up_cluster(profile, &mut info).await?;
        info.save()?;
    }
    clickhouse::up(profile, &mut info, components.ch_shards).await?;
    info.save()?;
    Ok(info)
}

/// Stops every process recorded in the profile's `stack.json`, services first.
pub fn down(state_dir: &Path) -> anyhow::Result<Vec<String>> {
    let Some(mut info) = StackInfo::load(state_dir)? else { return Ok(Vec::new()) };
    let stopped = process::stop_all(&mut info.pids)?;
    info.save()?;
    Ok(stopped)
}

/// One line per component: its health.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ComponentStatus {
    pub name: String,
    pub healthy: bool,
    pub detail: String,
}

pub async fn status(state_dir: &Path) -> anyhow::Result<Vec<ComponentStatus>> {
    let Some(info) = StackInfo::load(state_dir)? else {
        anyhow::bail!("no stack in {} (run `cargo stack up` first)", state_dir.display())
    };
    let mut out = Vec::new();
    out.push(postgres::status(&info).await);
    if info.redis_single_port.is_some() {
        out.push(redis::status_single(&info).await);
    }
    if !info.redis_cluster_ports.is_empty() {
        out.push(redis::status_cluster(&info).await);
    }
    out.extend(clickhouse::status(&info).await);
    out.extend(services::status(&info).await);
    Ok(out)
}
pub mod demo;
