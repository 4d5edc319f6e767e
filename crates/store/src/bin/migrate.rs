//! Applies the Postgres migrations and the ClickHouse DDL to the stores named by `PG_*` and
//! `CH_*`. docker-compose runs it as a one-shot job before the services start. With
//! `CH_CLUSTER` set, the database gets the sharded layout (`clickhouse-ddl/sharded/`) on every
//! server named by `CH_SHARD_HOSTS` (`host[:http port]`, comma-separated; default `CH_HOST`),
//! its local tables replicated with `CH_REPLICATED=true`.

use platform::config::{ChConfig, Env, PgConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("migrate", "info");
    let mut env = Env::from_process();
    let pg = PgConfig::from_env(&mut env);
    let ch = ChConfig::from_env(&mut env);
    let shard_hosts: Option<String> = env.optional("CH_SHARD_HOSTS");
    env.finish()?;

    let pool = store::pg::pool(&pg, std::time::Duration::from_secs(1));
    store::schema::MIGRATOR.run(&pool).await?;
    tracing::info!(database = %pg.database, "postgres migrations applied");

    let Some(cluster) = ch.cluster.clone() else {
        let applied = prepare(&ch).await?;
        tracing::info!(database = %ch.database, applied = applied.len(), "clickhouse DDL applied");
        return Ok(());
    };
    let shards = shard_hosts.unwrap_or_else(|| ch.host.clone());
    for shard in shards.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (host, port) = match shard.rsplit_once(':') {
            Some((host, port)) => {
                (host.to_owned(), port.parse().map_err(|e| anyhow::anyhow!("CH_SHARD_HOSTS: {shard}: {e}"))?)
            }
            None => (shard.to_owned(), ch.port),
        };
        let cfg = ChConfig { host, port, ..ch.clone() };
        create_database(&cfg).await?;
        let client = store::ch::client(&cfg).await?;
        let applied =
            store::schema::apply_sharded_clickhouse_ddl(&client, &cluster, &cfg.database, cfg.replicated).await?;
        tracing::info!(shard, %cluster, database = %cfg.database, applied = applied.len(), "sharded clickhouse DDL applied");
    }
    Ok(())
}

async fn create_database(ch: &ChConfig) -> anyhow::Result<()> {
    let server = store::ch::client_for_database(ch, "default").await?;
    server.query(&format!("CREATE DATABASE IF NOT EXISTS `{}`", ch.database)).execute().await?;
    Ok(())
}

async fn prepare(ch: &ChConfig) -> anyhow::Result<Vec<&'static str>> {
    create_database(ch).await?;
    let client = store::ch::client(ch).await?;
    Ok(store::schema::apply_clickhouse_ddl(&client).await?)
}
