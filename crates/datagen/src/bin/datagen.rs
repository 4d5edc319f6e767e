//! `cargo datagen`: writes a generated data set into the stores named by `PG_*` / `CH_*`.
//!
//! ```text
//! cargo datagen --profiles 200 --days 120              # the demo set
//! cargo datagen --profiles 55000 --days 365 --pg-time-series   # ~40M rows: benchmark size
//! ```

use chrono::NaiveDate;
use clap::Parser;
use platform::config::{ChConfig, Env, PgConfig};
use sqlx::Connection;

#[derive(Parser)]
#[command(about = "Deterministic demo/benchmark data for bulbul")]
struct Args {
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Profiles per platform (instagram and youtube each)
    #[arg(long, default_value_t = 200)]
    profiles: u64,
    /// Days of history per profile
    #[arg(long, default_value_t = 120)]
    days: u32,
    /// Last day of history (default: yesterday)
    #[arg(long)]
    end_date: Option<NaiveDate>,
    #[arg(long, default_value_t = 10)]
    posts_per_profile: u32,
    #[arg(long, default_value_t = 5)]
    partners: u32,
    #[arg(long, default_value_t = 2)]
    collections_per_partner: u32,
    /// Also load the time series into Postgres (benchmark baseline)
    #[arg(long)]
    pg_time_series: bool,
    /// Skip ClickHouse
    #[arg(long)]
    no_clickhouse: bool,
    /// Skip Postgres
    #[arg(long)]
    no_postgres: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::telemetry::init("datagen", "warn");
    let a = Args::parse();
    anyhow::ensure!(a.profiles >= 1 && a.days >= 1, "--profiles and --days must be at least 1");
    anyhow::ensure!(a.partners >= 2, "--partners must be at least 2 (the two demo partners)");
    let cfg = datagen::GenConfig {
        seed: a.seed,
        profiles_per_platform: a.profiles,
        days: a.days,
        end_date: a.end_date.unwrap_or_else(|| chrono::Utc::now().date_naive().pred_opt().expect("a yesterday")),
        posts_per_profile: a.posts_per_profile,
        partners: a.partners,
        collections_per_partner: a.collections_per_partner,
        pg_time_series: a.pg_time_series,
    };
    let mut env = Env::from_process();
    let pg_cfg = (!a.no_postgres).then(|| PgConfig::from_env(&mut env));
    let ch_cfg = (!a.no_clickhouse).then(|| ChConfig::from_env(&mut env));
    env.finish()?;

    let mut pg = match &pg_cfg {
        Some(c) => Some(
            sqlx::PgConnection::connect_with(&store::pg::connect_options(c, std::time::Duration::from_secs(60)))
                .await?,
        ),
        None => None,
    };
    let ch = match &ch_cfg {
        Some(c) => Some(store::ch::client(c).await?),
        None => None,
    };
    let started = std::time::Instant::now();
    let report = datagen::load(&cfg, datagen::Targets { pg: pg.as_mut(), ch: ch.as_ref(), progress: true }).await?;
    eprintln!("{report:?} in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}
