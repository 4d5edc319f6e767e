//! What the analytics stores cost, measured side by side in one run: the same generated time
//! series in Postgres (primary key (platform, profile_id, date) plus an index on (platform,
//! date), vacuumed and analysed) and in ClickHouse (merged), each query asked several ways:
//! - **Postgres, raw**: coffee's `PgAnalyticsDao`, every answer from the raw series;
//! - **Postgres, summary table**: the monthly queries from a per-(platform, month, profile)
//!   table of month-start and month-end values, built here once (the equivalent of
//!   ClickHouse's monthly aggregates; its build time is reported);
//! - **ClickHouse, raw**: the monthly queries computed from the raw series (deduplicated by
//!   (date, ingested_at), as the views are), so raw is compared with raw;
//! - **ClickHouse, served**: coffee's `ChAnalyticsDao` as partners get it (the monthly queries
//!   from the `profile_monthly_stats` aggregates, the others from the raw series);
//! - **ClickHouse on 2 shards, served**: the same DAO on the sharded layout over the test
//!   stack's two servers (both on this machine's 2 cores: it measures the layout's overhead,
//!   not added hardware).
//!
//! The comparison SQL (raw monthly queries, the summary table) lives here because only the
//! benchmark asks it. Then coffee's HTTP path (`GET /coffee/profiles/{platform}/{id}`) under wrk
//! at 64 connections. Writes `bench/results/analytics.{md,json}`.
//!
//! Run with `cargo stack bench --only analytics` (starts the test stack; sizes from
//! `BENCH_SIZES`, default `1000000,5000000,20000000` time-series rows per store).

use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use coffee::core::clickhouse::ChSession;
use coffee::core::context::RequestContext;
use coffee::core::postgres::PgSession;
use coffee::domain::Platform;
use coffee::modules::analytics::dao::{
    AnalyticsDao, ChAnalyticsDao, Granularity, Metric, MonthRow, MonthlyStat, PgAnalyticsDao, FIRST_DAY_NEWEST_LOAD,
    LAST_DAY_NEWEST_LOAD,
};
use serde_json::{json, Value};
use sqlx::Connection;
use testkit::bench::{stats, Stats};

/// The same allocator as the coffee binary, so the HTTP figures are the service's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DAYS: u32 = 365;
const END: (i32, u32, u32) = (2026, 10, 31);

fn end() -> NaiveDate {
    NaiveDate::from_ymd_opt(END.0, END.1, END.2).unwrap()
}

fn config(pg: &testkit::TestPg, ch: &testkit::TestCh) -> coffee::Config {
    coffee::Config {
        // the service's defaults (PG_MAX_OPEN_CONN=20, PG_MAX_IDLE_CONN=5, CH_MAX_OPEN_CONN=20)
        pg: platform::config::PgConfig { max_open_conns: 20, max_idle_conns: 5, ..pg.config.clone() },
        ch: platform::config::ChConfig { max_open_conns: 20, ..ch.config.clone() },
        slow_query: Duration::from_secs(600),
        free_profile_view_quota: 50,
        // Postgres computes monthly growth from 20M raw rows in about 15 s: the comparison
        // needs its answer, not the service's deadline
        pg_query_timeout: Duration::from_secs(300),
        ch_query_timeout: Duration::from_secs(300),
        ..coffee::testing::config(pg, ch, &testkit::redis_prefix())
    }
}

fn context(state: &coffee::AppState) -> RequestContext {
    RequestContext::new(
        Default::default(),
        state.config.clone(),
        PgSession::new(state.pg.clone(), state.session_stats.clone()),
        ChSession::new(state.ch.clone(), state.session_stats.clone()),
    )
}

#[derive(Clone, Copy)]
enum Query {
    MonthlyGrowth,
    TopGrowth,
    YearSeries,
    Compare10,
}

impl Query {
    const ALL: [Query; 4] = [Query::MonthlyGrowth, Query::TopGrowth, Query::YearSeries, Query::Compare10];
    fn name(self) -> &'static str {
        match self {
            Query::MonthlyGrowth => "monthly growth per platform (12 months)",
            Query::TopGrowth => "month's top-100 leaderboard by growth",
            Query::YearSeries => "one profile's one-year daily series",
            Query::Compare10 => "10-profile compare (one year)",
        }
    }
    fn scan_heavy(self) -> bool {
        matches!(self, Query::MonthlyGrowth | Query::TopGrowth)
    }
    /// The p95 a partner should get (ClickHouse, served), in ms.
    fn served_p95_target_ms(self) -> f64 {
        match self {
            Query::MonthlyGrowth => 50.0,
            Query::TopGrowth | Query::Compare10 => 20.0,
            Query::YearSeries => 10.0,
        }
    }
}

async fn run<D: AnalyticsDao>(dao: &D, state: &coffee::AppState, q: Query, profiles: u64) -> usize {
    let ctx = context(state);
    let start = end() - chrono::Days::new(u64::from(DAYS) - 1);
    let month =
        |d: NaiveDate| NaiveDate::from_ymd_opt(chrono::Datelike::year(&d), chrono::Datelike::month(&d), 1).unwrap();
    let n = match q {
        Query::MonthlyGrowth => {
            dao.monthly_growth(&ctx, Platform::Instagram, month(start), month(end())).await.unwrap().len()
        }
        Query::TopGrowth => {
            dao.top(&ctx, Platform::Instagram, month(end()), Metric::FollowerGrowth, None, 100).await.unwrap().len()
        }
        Query::YearSeries => dao
            .series(&ctx, Platform::Instagram, (profiles / 2).max(1) as i64, start, end(), Granularity::Day)
            .await
            .unwrap()
            .len(),
        Query::Compare10 => {
            let ids: Vec<i64> = (0..10).map(|i| (i * profiles as i64 / 10) + 1).collect();
            dao.growth(&ctx, Platform::Instagram, &ids, start, end()).await.unwrap().len()
        }
    };
    ctx.rollback().await;
    n
}

/// Warm-up once, then repeat until 30 samples or a 20 s budget (at least 3 samples); `ask`
/// returns the number of result rows.
async fn measure<F, Fut>(ask: F) -> (Stats, usize)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    let rows = ask().await;
    let budget = Instant::now();
    let mut samples = Vec::new();
    while samples.len() < 3 || (samples.len() < 30 && budget.elapsed() < Duration::from_secs(20)) {
        let t = Instant::now();
        ask().await;
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (stats(samples), rows)
}

fn first_month() -> NaiveDate {
    let start = end() - chrono::Days::new(u64::from(DAYS) - 1);
    NaiveDate::from_ymd_opt(chrono::Datelike::year(&start), chrono::Datelike::month(&start), 1).unwrap()
}

fn last_month() -> NaiveDate {
    NaiveDate::from_ymd_opt(END.0, END.1, 1).unwrap()
}

/// The monthly queries from the raw ClickHouse series, each day's newest load counting, as the
/// aggregates count it (ordered by the DAO's own keys).
fn ch_raw_monthly_growth() -> String {
    format!(
        "SELECT month, count() AS profiles, sum(f0) AS followers_start, sum(f1) AS followers_end FROM \
           (SELECT toStartOfMonth(date) AS month, profile_id, argMin(followers, {first}) AS f0, argMax(followers, {last}) AS f1 \
            FROM social_profile_time_series WHERE platform = 'instagram' AND date >= toDate(?) AND date < addMonths(toDate(?), 1) \
            GROUP BY month, profile_id) \
         GROUP BY month ORDER BY month",
        first = FIRST_DAY_NEWEST_LOAD,
        last = LAST_DAY_NEWEST_LOAD
    )
}

fn ch_raw_top_growth() -> String {
    format!(
        "SELECT profile_id, category, followers_start, followers_end, engagement_rate, avg_views FROM \
           (SELECT profile_id, argMax(category, {last}) AS category, argMin(followers, {first}) AS followers_start, \
                   argMax(followers, {last}) AS followers_end, argMax(engagement_rate, {last}) AS engagement_rate, \
                   argMax(avg_views, {last}) AS avg_views \
            FROM social_profile_time_series WHERE platform = 'instagram' AND date >= toDate(?) AND date < addMonths(toDate(?), 1) \
            GROUP BY profile_id) \
         ORDER BY toInt64(followers_end) - toInt64(followers_start) DESC, profile_id LIMIT 100",
        first = FIRST_DAY_NEWEST_LOAD,
        last = LAST_DAY_NEWEST_LOAD
    )
}

/// Postgres's equivalent of ClickHouse's monthly aggregates: one row per platform, month and
/// profile with its month-start and month-end values.
const PG_SUMMARY_BUILD: [&str; 3] = [
    "CREATE TABLE bench_profile_monthly AS \
     SELECT platform, date_trunc('month', date)::date AS month, profile_id, \
            (array_agg(followers ORDER BY date))[1] AS followers_start, (array_agg(followers ORDER BY date DESC))[1] AS followers_end, \
            (array_agg(engagement_rate ORDER BY date DESC))[1] AS engagement_rate, (array_agg(avg_views ORDER BY date DESC))[1] AS avg_views, \
            (array_agg(category ORDER BY date DESC))[1] AS category \
     FROM social_profile_time_series GROUP BY 1, 2, 3",
    "CREATE INDEX ON bench_profile_monthly (platform, month)",
    "VACUUM ANALYZE bench_profile_monthly",
];
const PG_SUMMARY_MONTHLY_GROWTH: &str = "SELECT month, count(*), sum(followers_start)::int8, sum(followers_end)::int8 \
     FROM bench_profile_monthly WHERE platform = 'instagram' AND month BETWEEN $1 AND $2 GROUP BY month ORDER BY month";
const PG_SUMMARY_TOP_GROWTH: &str =
    "SELECT profile_id, category, followers_start, followers_end, engagement_rate, avg_views \
     FROM bench_profile_monthly WHERE platform = 'instagram' AND month = $1 \
     ORDER BY followers_end - followers_start DESC, profile_id LIMIT 100";

/// The raw-series ClickHouse answer for the monthly queries (`None`: the served answer is raw).
async fn ch_raw(client: &clickhouse::Client, q: Query) -> Option<usize> {
    let bind = |sql| client.query(sql).bind(first_month().to_string()).bind(last_month().to_string());
    Some(match q {
        Query::MonthlyGrowth => bind(&ch_raw_monthly_growth()).fetch_all::<MonthRow>().await.unwrap().len(),
        Query::TopGrowth => client
            .query(&ch_raw_top_growth())
            .bind(last_month().to_string())
            .bind(last_month().to_string())
            .fetch_all::<MonthlyStat>()
            .await
            .unwrap()
            .len(),
        Query::YearSeries | Query::Compare10 => return None,
    })
}

/// The summary-table Postgres answer for the monthly queries (`None`: no summary applies).
async fn pg_summary(pool: &sqlx::PgPool, q: Query) -> Option<usize> {
    Some(match q {
        Query::MonthlyGrowth => sqlx::query(PG_SUMMARY_MONTHLY_GROWTH)
            .bind(first_month())
            .bind(last_month())
            .fetch_all(pool)
            .await
            .unwrap()
            .len(),
        Query::TopGrowth => sqlx::query(PG_SUMMARY_TOP_GROWTH).bind(last_month()).fetch_all(pool).await.unwrap().len(),
        Query::YearSeries | Query::Compare10 => return None,
    })
}

async fn drop_databases(pg: testkit::TestPg, ch: testkit::TestCh, state: coffee::AppState) {
    state.pg.close().await;
    pg.pool.close().await;
    let mut admin = sqlx::PgConnection::connect(&testkit::stack().pg_url("postgres")).await.unwrap();
    sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", pg.database)).execute(&mut admin).await.unwrap();
    ch.client.query(&format!("DROP DATABASE {}", ch.database)).execute().await.unwrap();
}

fn cell(s: Option<&Stats>) -> String {
    s.map_or_else(|| "–".to_owned(), |s| format!("{:.1} / {:.1} / {:.1}", s.p50, s.p95, s.p99))
}

fn stats_json(s: Option<&Stats>) -> Value {
    s.map_or(Value::Null, |s| json!({"p50": s.p50, "p95": s.p95, "p99": s.p99, "samples": s.n}))
}

async fn size_run(target_rows: u64, machine_md: &mut String) -> Value {
    let profiles = (target_rows / (2 * u64::from(DAYS))).max(10);
    let (pg, ch) = (testkit::pg().await, testkit::ch().await);
    let sharded = testkit::ch_sharded(testkit::CH_CLUSTER).await;
    let cfg = datagen::GenConfig {
        seed: 2026,
        profiles_per_platform: profiles,
        days: DAYS,
        end_date: end(),
        posts_per_profile: 0,
        partners: 2,
        collections_per_partner: 0,
        pg_time_series: true,
    };
    eprintln!("loading {} rows per store ({profiles} profiles per platform x {DAYS} days)…", cfg.time_series_rows());
    let t = Instant::now();
    let mut conn = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
    datagen::load(&cfg, datagen::Targets { pg: Some(&mut conn), ch: None, progress: true }).await.unwrap();
    sqlx::query("VACUUM ANALYZE social_profile_time_series").execute(&mut conn).await.unwrap();
    let pg_load = t.elapsed().as_secs_f64();
    let t = Instant::now();
    for statement in PG_SUMMARY_BUILD {
        sqlx::query(statement).execute(&mut conn).await.unwrap();
    }
    let pg_summary_build = t.elapsed().as_secs_f64();
    let t = Instant::now();
    datagen::load(&cfg, datagen::Targets { pg: None, ch: Some(&ch.client), progress: true }).await.unwrap();
    for table in ["social_profile_time_series", "profile_monthly_stats"] {
        ch.client.query(&format!("OPTIMIZE TABLE {table} FINAL")).execute().await.unwrap();
    }
    let ch_load = t.elapsed().as_secs_f64();
    let t = Instant::now();
    datagen::load(&cfg, datagen::Targets { pg: None, ch: Some(&sharded.client), progress: true }).await.unwrap();
    for port in &testkit::stack().ch_shards {
        let shard = clickhouse::Client::default()
            .with_url(format!("http://127.0.0.1:{port}"))
            .with_database(&sharded.database)
            .with_validation(false);
        for table in ["social_profile_time_series_local", "profile_monthly_stats_local"] {
            shard.query(&format!("OPTIMIZE TABLE {table} FINAL")).execute().await.unwrap();
        }
    }
    let sharded_load = t.elapsed().as_secs_f64();
    let pg_size: i64 = sqlx::query_scalar("SELECT pg_total_relation_size('social_profile_time_series')")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    let ch_size: u64 = ch
        .client
        .query("SELECT sum(bytes) FROM system.parts WHERE active AND database = ? AND table = 'social_profile_time_series'")
        .bind(&ch.database)
        .fetch_one()
        .await
        .unwrap();
    drop(conn);

    let state = coffee::state(config(&pg, &ch)).await.unwrap();
    let sharded_state = coffee::state(config(&pg, &sharded)).await.unwrap();
    let mut queries = Vec::new();
    let _ = writeln!(machine_md, "\n### {} rows per store\n", cfg.time_series_rows());
    let _ = writeln!(
        machine_md,
        "Load: Postgres {pg_load:.1} s (COPY + VACUUM ANALYZE, {:.0} MiB with indexes; the summary table {pg_summary_build:.1} s more), \
         ClickHouse {ch_load:.1} s (RowBinary + OPTIMIZE, {:.0} MiB compressed), on 2 shards {sharded_load:.1} s.\n",
        pg_size as f64 / 1048576.0,
        ch_size as f64 / 1048576.0
    );
    let _ = writeln!(
        machine_md,
        "p50 / p95 / p99 in ms. \"Raw\" computes from the daily series; \"summary\" and \"served\" (monthly queries) read \
         pre-aggregated month rows.\n\n\
         | query | Postgres raw | Postgres summary | ClickHouse raw | ClickHouse served | served, 2 shards | rows |\n|---|---|---|---|---|---|---|"
    );
    for q in Query::ALL {
        eprintln!("  {} …", q.name());
        let (p, rows_pg) = measure(|| run(&PgAnalyticsDao, &state, q, profiles)).await;
        let summary = match pg_summary(&pg.pool, q).await {
            Some(_) => Some(measure(|| async { pg_summary(&pg.pool, q).await.unwrap_or(0) }).await),
            None => None,
        };
        let raw = match ch_raw(&ch.client, q).await {
            Some(_) => Some(measure(|| async { ch_raw(&ch.client, q).await.unwrap_or(0) }).await),
            None => None,
        };
        let (c, rows_ch) = measure(|| run(&ChAnalyticsDao, &state, q, profiles)).await;
        let (c2, rows_2) = measure(|| run(&ChAnalyticsDao, &sharded_state, q, profiles)).await;
        for (what, rows) in [("summary", summary.as_ref().map(|s| s.1)), ("raw", raw.as_ref().map(|s| s.1))] {
            assert!(rows.is_none_or(|r| r == rows_ch), "{}: {what} returned another number of rows", q.name());
        }
        assert_eq!(
            (rows_pg, rows_2),
            (rows_ch, rows_ch),
            "{}: every variant returns the same number of rows",
            q.name()
        );
        let (summary, raw) = (summary.map(|s| s.0), raw.map(|s| s.0));
        let _ = writeln!(
            machine_md,
            "| {} | {} | {} | {} | {} | {} | {rows_ch} |",
            q.name(),
            cell(Some(&p)),
            cell(summary.as_ref()),
            cell(raw.as_ref()),
            cell(Some(&c)),
            cell(Some(&c2)),
        );
        // raw against raw: the engines; pre-aggregated against pre-aggregated; served against
        // Postgres raw for the queries that are raw in both
        let raw_ratio = p.p50 / raw.as_ref().unwrap_or(&c).p50;
        queries.push(json!({
            "query": q.name(), "scan_heavy": q.scan_heavy(), "served_p95_target_ms": q.served_p95_target_ms(), "result_rows": rows_ch,
            "postgres_raw_ms": stats_json(Some(&p)),
            "postgres_summary_ms": stats_json(summary.as_ref()),
            "clickhouse_raw_ms": stats_json(raw.as_ref()),
            "clickhouse_served_ms": stats_json(Some(&c)),
            "clickhouse_2_shards_served_ms": stats_json(Some(&c2)),
            "ratios_p50": {
                "postgres_raw_over_clickhouse_raw": raw_ratio,
                "postgres_summary_over_clickhouse_served": summary.as_ref().map(|s| s.p50 / c.p50),
                "two_shards_over_one_node": c2.p50 / c.p50,
            },
        }));
    }
    sharded_state.pg.close().await;
    drop_databases(pg, ch, state).await;
    sharded.client.query(&format!("DROP DATABASE {}", sharded.database)).execute().await.unwrap();
    for port in testkit::stack().ch_shards.iter().skip(1) {
        let shard = clickhouse::Client::default().with_url(format!("http://127.0.0.1:{port}")).with_validation(false);
        shard.query(&format!("DROP DATABASE {}", sharded.database)).execute().await.unwrap();
    }
    json!({
        "time_series_rows": cfg.time_series_rows(), "profiles_per_platform": profiles, "days": DAYS,
        "load_seconds": {"postgres": pg_load, "postgres_summary_table": pg_summary_build, "clickhouse": ch_load, "clickhouse_2_shards": sharded_load},
        "bytes": {"postgres": pg_size, "clickhouse": ch_size},
        "queries": queries,
    })
}

fn wrk_available() -> bool {
    if Command::new("wrk").arg("--version").output().is_ok() {
        return true;
    }
    eprintln!("installing wrk (apt-get)…");
    Command::new("apt-get")
        .args(["install", "-y", "-qq", "wrk"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .status()
        .is_ok_and(|s| s.success())
}

/// Parses wrk's `--latency` output: requests/s and the 50/75/90/99% latencies in ms.
fn parse_wrk(out: &str) -> Value {
    let ms = |v: &str| -> f64 {
        let (num, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
        let n: f64 = num.parse().unwrap_or(f64::NAN);
        match unit {
            "us" => n / 1000.0,
            "s" => n * 1000.0,
            _ => n,
        }
    };
    let mut v = json!({});
    for line in out.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("Requests/sec:") {
            v["requests_per_sec"] = json!(rest.trim().parse::<f64>().unwrap_or(f64::NAN));
        }
        for p in ["50%", "75%", "90%", "99%"] {
            if let Some(rest) = line.strip_prefix(p) {
                v[format!("p{}_ms", &p[..2])] = json!(ms(rest.trim()));
            }
        }
        if let Some((n, _)) = line.split_once(" requests in ") {
            v["requests"] = json!(n.trim().parse::<u64>().unwrap_or(0));
        }
        if line.contains("Non-2xx or 3xx responses:") {
            v["non_2xx"] = json!(line.rsplit(' ').next().unwrap_or("?").parse::<u64>().unwrap_or(0));
        }
    }
    v
}

/// The sum and count of a Prometheus summary or histogram in coffee's `/metrics`.
async fn summary(base: &str, name: &str) -> (f64, f64) {
    let text = reqwest::get(format!("{base}/metrics")).await.unwrap().text().await.unwrap();
    let read = |suffix: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{name}_{suffix}")))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (read("sum"), read("count"))
}

fn wrk(script: &std::path::Path, base_url: &str, seconds: u32) -> Value {
    let out = Command::new("wrk")
        .args(["-t2", "-c64", &format!("-d{seconds}s"), "--latency", "-s"])
        .arg(script)
        .arg(base_url)
        .output()
        .expect("wrk runs");
    parse_wrk(&String::from_utf8_lossy(&out.stdout))
}

async fn http_run(md: &mut String) -> Value {
    let (pg, ch) = (testkit::pg().await, testkit::ch().await);
    let cfg = datagen::GenConfig {
        seed: 7,
        profiles_per_platform: 1000,
        days: 30,
        end_date: end(),
        posts_per_profile: 0,
        partners: 2,
        collections_per_partner: 0,
        pg_time_series: false,
    };
    let mut conn = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
    datagen::load(&cfg, datagen::Targets { pg: Some(&mut conn), ch: None, progress: false }).await.unwrap();
    drop(conn);
    let state = coffee::state(config(&pg, &ch)).await.unwrap();
    let server = platform::http::Server::bind("127.0.0.1:0", coffee::router(state.clone())).await.unwrap();
    let running = testkit::serve(server);
    let script = std::env::temp_dir().join(format!("coffee-bench-{}.lua", std::process::id()));
    let mut results = json!({});
    let _ = writeln!(
        md,
        "\n## HTTP: `GET /coffee/profiles/instagram/{{id}}` (1000 profiles, wrk, 2 threads, 64 connections, 3 s warm-up, then 15 s)\n\n\
         coffee runs in the benchmark process with the service's defaults (PG_MAX_OPEN_CONN=20, mimalloc), on the same 2 cores \
         as wrk and Postgres. The partner path waits until its view is committed by the usage log (group commit) before answering.\n"
    );
    let _ = writeln!(md, "| caller | requests/s | p50 (ms) | p90 (ms) | p99 (ms) | non-2xx |");
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    let views = || async {
        sqlx::query_scalar::<_, i64>("SELECT coalesce(sum(profile_views), 0)::int8 FROM partner_usage")
            .fetch_one(&pg.pool)
            .await
            .unwrap()
    };
    for (key, label, headers) in [
        (
            "partner",
            "partner (SAAS): view recorded in partner_usage, page track, activity log",
            r#"["x-bb-partner-id"]="1", ["x-bb-plan-type"]="SAAS""#,
        ),
        ("internal", "internal (no partner): read only", r#"["x-bb-plan-type"]="SAAS""#),
    ] {
        std::fs::write(
            &script,
            format!("local n = 0\nrequest = function()\n  n = n + 1\n  return wrk.format(\"GET\", \"/coffee/profiles/instagram/\" .. (n % 1000 + 1), {{{headers}}})\nend\n"),
        )
        .unwrap();
        wrk(&script, &running.base_url, 3);
        let (views_before, batches_before) =
            (views().await, summary(&running.base_url, "coffee_usage_log_batch_events").await);
        let mut v = wrk(&script, &running.base_url, 15);
        let (views_after, batches_after) =
            (views().await, summary(&running.base_url, "coffee_usage_log_batch_events").await);
        let _ = writeln!(
            md,
            "| {label} | {:.0} | {:.2} | {:.2} | {:.2} | {} |",
            v["requests_per_sec"].as_f64().unwrap_or(f64::NAN),
            v["p50_ms"].as_f64().unwrap_or(f64::NAN),
            v["p90_ms"].as_f64().unwrap_or(f64::NAN),
            v["p99_ms"].as_f64().unwrap_or(f64::NAN),
            v["non_2xx"].as_u64().unwrap_or(0)
        );
        let (events, batches) = (batches_after.0 - batches_before.0, batches_after.1 - batches_before.1);
        v["views_recorded"] = json!(views_after - views_before);
        v["usage_log_batches"] = json!(batches);
        v["usage_log_events_per_batch"] = json!(if batches > 0.0 { events / batches } else { 0.0 });
        results[key] = v;
    }
    let (partner, internal) = (results["partner"].clone(), results["internal"].clone());
    let ratio =
        partner["requests_per_sec"].as_f64().unwrap_or(0.0) / internal["requests_per_sec"].as_f64().unwrap_or(1.0);
    results["partner_over_internal_rps"] = json!(ratio);
    let _ = writeln!(
        md,
        "\nPartner path: {} views recorded for {} responses counted by wrk (requests in flight when wrk stops are recorded but not counted), \
         written in {} usage-log statements ({:.1} views per statement); {:.2}x the read-only path's throughput.",
        partner["views_recorded"], partner["requests"], partner["usage_log_batches"],
        partner["usage_log_events_per_batch"].as_f64().unwrap_or(0.0), ratio
    );
    let _ = std::fs::remove_file(&script);
    running.stop().await;
    drop_databases(pg, ch, state).await;
    results
}

#[tokio::main]
async fn main() {
    let sizes: Vec<u64> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "1000000,5000000,20000000".into())
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("BENCH_SIZES: comma-separated row counts"))
        .collect();
    let machine = testkit::bench::machine();
    let mut md = format!(
        "# Analytics benchmark: Postgres and ClickHouse, raw and pre-aggregated, one node and two shards\n\n\
         Machine: {} ({} cores, {} GiB); ClickHouse {}; PostgreSQL 15. Generated by `cargo stack bench --only analytics` on {}.\n\n\
         Same rows in every store (seeded generator, {DAYS} days per profile, half Instagram, half YouTube). Postgres: primary key \
         (platform, profile_id, date) + index (platform, date), `VACUUM ANALYZE`d. ClickHouse: parts merged (`OPTIMIZE … FINAL`). \
         Columns: **Postgres raw** is coffee's Postgres DAO computing from the daily series; **Postgres summary** reads a \
         per-(platform, month, profile) table of month-start and month-end values built once (monthly queries only); \
         **ClickHouse raw** computes the monthly queries from the daily series; **ClickHouse served** is coffee's ClickHouse \
         DAO as partners get it (monthly queries from the `profile_monthly_stats` aggregates, the others from the daily series); \
         **served, 2 shards** is the same on the sharded layout over two servers sharing this machine's cores. Each cell: one \
         warm-up, then up to 30 samples or 20 s (at least 3); wall time including the session and decoding.\n",
        machine["cpu"].as_str().unwrap_or("?"),
        machine["cores"],
        machine["memory_gib"],
        machine["clickhouse"].as_str().unwrap_or("?"),
        chrono::Utc::now().format("%Y-%m-%d"),
    );
    let mut runs = Vec::new();
    for rows in sizes {
        runs.push(size_run(rows, &mut md).await);
    }
    let http = if wrk_available() { http_run(&mut md).await } else { json!({"skipped": "wrk is not installed"}) };

    // the targets, stated against the largest size measured
    if let Some(largest) = runs.last() {
        let _ = writeln!(md, "\n## Targets (largest size: {} rows)\n", largest["time_series_rows"]);
        for q in largest["queries"].as_array().unwrap() {
            let name = q["query"].as_str().unwrap();
            let ratios = &q["ratios_p50"];
            if q["scan_heavy"].as_bool().unwrap_or(false) {
                let raw = ratios["postgres_raw_over_clickhouse_raw"].as_f64().unwrap_or(0.0);
                let _ = writeln!(
                    md,
                    "- {name}: ClickHouse raw {raw:.1}x faster than Postgres raw (p50; target ≥ 20x): {}; \
                     pre-aggregated in both, ClickHouse served {:.1}x Postgres's summary table",
                    if raw >= 20.0 { "met" } else { "NOT met" },
                    ratios["postgres_summary_over_clickhouse_served"].as_f64().unwrap_or(f64::NAN),
                );
            }
            let p95 = q["clickhouse_served_ms"]["p95"].as_f64().unwrap_or(f64::NAN);
            let target = q["served_p95_target_ms"].as_f64().unwrap_or(f64::NAN);
            let _ = writeln!(
                md,
                "- {name}: served p95 {p95:.1} ms (target < {target:.0} ms): {}; on 2 shards {:.2}x one node's p50",
                if p95 < target { "met" } else { "NOT met" },
                ratios["two_shards_over_one_node"].as_f64().unwrap_or(f64::NAN),
            );
        }
        if let Some(rps) = http["partner"]["requests_per_sec"].as_f64() {
            let _ = writeln!(
                md,
                "- HTTP GET profile (partner path) {rps:.0} req/s at 64 connections (target 5,000): {}",
                if rps >= 5000.0 { "met" } else { "NOT met" }
            );
        }
    }
    let report = json!({ "machine": machine, "sizes": runs, "http_get_profile": http });
    testkit::bench::write_report("analytics", &md, &report);
    println!("{md}");
}
