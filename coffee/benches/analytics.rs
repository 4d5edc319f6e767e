//! Why ClickHouse holds the time series, measured: the same generated time series in Postgres
//! (primary key (platform, profile_id, date) plus an index on (platform, date), vacuumed and
//! analysed) and in ClickHouse (merged), queried through coffee's own `AnalyticsDao`
//! implementations at several sizes; then coffee's HTTP path
//! (`GET /coffee/profiles/{platform}/{id}`) under wrk at 64 connections. Writes
//! `bench/results/analytics.{md,json}`.
//!
//! Run with `cargo stack bench` (starts the test stack; sizes from `BENCH_SIZES`, default
//! `1000000,5000000,20000000` time-series rows per store).

use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use coffee::core::clickhouse::ChSession;
use coffee::core::context::RequestContext;
use coffee::core::postgres::PgSession;
use coffee::domain::Platform;
use coffee::modules::analytics::dao::{AnalyticsDao, ChAnalyticsDao, Granularity, Metric, PgAnalyticsDao};
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
    /// The coffee issue sets a p95 < 100 ms target for leaderboards and time series.
    fn has_latency_target(self) -> bool {
        matches!(self, Query::TopGrowth | Query::YearSeries)
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

/// Warm-up once, then repeat until 30 samples or a 20 s budget (at least 3 samples).
async fn measure<D: AnalyticsDao>(dao: &D, state: &coffee::AppState, q: Query, profiles: u64) -> (Stats, usize) {
    let rows = run(dao, state, q, profiles).await;
    let budget = Instant::now();
    let mut samples = Vec::new();
    while samples.len() < 3 || (samples.len() < 30 && budget.elapsed() < Duration::from_secs(20)) {
        let t = Instant::now();
        run(dao, state, q, profiles).await;
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    (stats(samples), rows)
}

async fn drop_databases(pg: testkit::TestPg, ch: testkit::TestCh, state: coffee::AppState) {
    state.pg.close().await;
    pg.pool.close().await;
    let mut admin = sqlx::PgConnection::connect(&testkit::stack().pg_url("postgres")).await.unwrap();
    sqlx::query(&format!("DROP DATABASE {} WITH (FORCE)", pg.database)).execute(&mut admin).await.unwrap();
    ch.client.query(&format!("DROP DATABASE {}", ch.database)).execute().await.unwrap();
}

async fn size_run(target_rows: u64, machine_md: &mut String) -> Value {
    let profiles = (target_rows / (2 * u64::from(DAYS))).max(10);
    let (pg, ch) = (testkit::pg().await, testkit::ch().await);
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
    datagen::load(&cfg, datagen::Targets { pg: None, ch: Some(&ch.client), progress: true }).await.unwrap();
    for table in ["social_profile_time_series", "profile_monthly_stats"] {
        ch.client.query(&format!("OPTIMIZE TABLE {table} FINAL")).execute().await.unwrap();
    }
    let ch_load = t.elapsed().as_secs_f64();
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
    let mut queries = Vec::new();
    let _ = writeln!(machine_md, "\n### {} rows per store\n", cfg.time_series_rows());
    let _ = writeln!(
        machine_md,
        "Load: Postgres {pg_load:.1} s (COPY + VACUUM ANALYZE, {:.0} MiB with indexes), ClickHouse {ch_load:.1} s (RowBinary + OPTIMIZE, {:.0} MiB compressed).\n",
        pg_size as f64 / 1048576.0,
        ch_size as f64 / 1048576.0
    );
    let _ = writeln!(
        machine_md,
        "| query | Postgres p50 / p95 / p99 (ms) | ClickHouse p50 / p95 / p99 (ms) | PG/CH (p50) | rows |"
    );
    let _ = writeln!(machine_md, "|---|---|---|---|---|");
    for q in Query::ALL {
        eprintln!("  {} …", q.name());
        let (p, rows_pg) = measure(&PgAnalyticsDao, &state, q, profiles).await;
        let (c, rows_ch) = measure(&ChAnalyticsDao, &state, q, profiles).await;
        assert_eq!(rows_pg, rows_ch, "{}: both stores must return the same number of rows", q.name());
        let ratio = p.p50 / c.p50;
        let _ = writeln!(
            machine_md,
            "| {} | {:.1} / {:.1} / {:.1} (n={}) | {:.1} / {:.1} / {:.1} (n={}) | {ratio:.1}x | {rows_ch} |",
            q.name(),
            p.p50,
            p.p95,
            p.p99,
            p.n,
            c.p50,
            c.p95,
            c.p99,
            c.n
        );
        queries.push(json!({
            "query": q.name(), "scan_heavy": q.scan_heavy(), "p95_target_ms": q.has_latency_target().then_some(100), "result_rows": rows_ch,
            "postgres_ms": {"p50": p.p50, "p95": p.p95, "p99": p.p99, "samples": p.n},
            "clickhouse_ms": {"p50": c.p50, "p95": c.p95, "p99": c.p99, "samples": c.n},
            "pg_over_ch_p50": ratio,
        }));
    }
    drop_databases(pg, ch, state).await;
    json!({
        "time_series_rows": cfg.time_series_rows(), "profiles_per_platform": profiles, "days": DAYS,
        "load_seconds": {"postgres": pg_load, "clickhouse": ch_load},
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
        "# Analytics benchmark: Postgres vs ClickHouse through coffee's DAO\n\n\
         Machine: {} ({} cores, {} GiB); ClickHouse {}; PostgreSQL 15. Generated by `cargo stack bench` on {}.\n\n\
         Same rows in both stores (seeded generator, {DAYS} days per profile, half Instagram, half YouTube). Postgres: primary key \
         (platform, profile_id, date) + index (platform, date), `VACUUM ANALYZE`d; it computes every answer from the raw series. \
         ClickHouse: parts merged (`OPTIMIZE … FINAL`); the monthly queries read the `profile_monthly_stats` aggregates that its \
         materialized view maintains on insert, the others the raw series. Each query: one warm-up, then up to 30 samples or 20 s \
         (at least 3). Latencies are wall time through `AnalyticsDao` including the session and decoding.\n",
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

    // targets from the coffee issue, stated against the largest size measured
    if let Some(largest) = runs.last() {
        let _ = writeln!(md, "\n## Targets (largest size: {} rows)\n", largest["time_series_rows"]);
        for q in largest["queries"].as_array().unwrap() {
            let ratio = q["pg_over_ch_p50"].as_f64().unwrap_or(0.0);
            let p95 = q["clickhouse_ms"]["p95"].as_f64().unwrap_or(f64::NAN);
            if q["scan_heavy"].as_bool().unwrap_or(false) {
                let _ = writeln!(
                    md,
                    "- {}: ClickHouse {ratio:.1}x faster (target ≥ 20x): {}",
                    q["query"].as_str().unwrap(),
                    if ratio >= 20.0 { "met" } else { "NOT met" }
                );
            }
            if !q["p95_target_ms"].is_null() {
                let _ = writeln!(
                    md,
                    "- {}: ClickHouse p95 {p95:.1} ms (target < 100 ms): {}",
                    q["query"].as_str().unwrap(),
                    if p95 < 100.0 { "met" } else { "NOT met" }
                );
            }
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
