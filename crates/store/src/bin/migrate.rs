//! Applies the Postgres migrations and the ClickHouse DDL to the stores named by `PG_*` and
//! `CH_*`. docker-compose runs it as a one-shot job before the services start.

use platform::config::{ChConfig, Env, PgConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("migrate", "info");
    let mut env = Env::from_process();
    let pg = PgConfig::from_env(&mut env);
    let ch = ChConfig::from_env(&mut env);
    env.finish()?;

    let pool = store::pg::pool(&pg, std::time::Duration::from_secs(1));
    store::schema::MIGRATOR.run(&pool).await?;
    tracing::info!(database = %pg.database, "postgres migrations applied");

    let server = store::ch::client_for_database(&ch, "default").await?;
    server.query(&format!("CREATE DATABASE IF NOT EXISTS `{}`", ch.database)).execute().await?;
    let client = store::ch::client(&ch).await?;
    let applied = store::schema::apply_clickhouse_ddl(&client).await?;
    tracing::info!(database = %ch.database, applied = applied.len(), "clickhouse DDL applied");
    Ok(())
}
