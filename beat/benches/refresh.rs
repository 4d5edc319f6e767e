//! beat's own cost, side by side in one run (`cargo stack bench --only beat`, on the test
//! stack): refreshes per second and their latency through beat's API against the provider
//! simulator answering at once, at 1 and 32 concurrent clients, next to the simulator asked
//! directly with the same load, so the difference is beat's overhead per refresh (limits,
//! credential pick, Postgres upsert, ClickHouse snapshot, request log). Then the ClickHouse
//! load rate of the snapshot writer's insert for a bulk load.
//!
//! Writes `bench/results/beat.md` and `beat.json`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use beat::pipeline::snapshots::{insert_all, ProfileDay};
use chrono::Utc;
use futures::future::join_all;
use ratelimit::StackPolicy;
use serde_json::{json, Value};
use testkit::bench::{machine, stats, write_report};

const RUN: Duration = Duration::from_secs(5);
const BULK_ROWS: usize = 2_000_000;
const BULK_BATCH: usize = 200_000;

struct Measured {
    per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    n: usize,
}

impl Measured {
    fn json(&self) -> Value {
        json!({"per_s": self.per_s.round(), "p50_ms": self.p50_ms, "p99_ms": self.p99_ms, "requests": self.n})
    }
}

/// `clients` loops of GET `url(i)` for `RUN`; every answer must be a 200.
async fn load(http: &reqwest::Client, clients: usize, url: Arc<dyn Fn(u64) -> String + Send + Sync>) -> Measured {
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let deadline = Instant::now() + RUN;
    let started = Instant::now();
    let tasks = (0..clients).map(|_| {
        let (http, url, counter) = (http.clone(), url.clone(), counter.clone());
        tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let i = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let t = Instant::now();
                let resp = http.get(url(i)).header("x-rapidapi-key", "bench").send().await.unwrap();
                let status = resp.status();
                let body = resp.bytes().await.unwrap();
                assert!(status.is_success(), "{status}: {}", String::from_utf8_lossy(&body));
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            lat
        })
    });
    let all: Vec<f64> = join_all(tasks).await.into_iter().flat_map(|r| r.unwrap()).collect();
    let elapsed = started.elapsed().as_secs_f64();
    let n = all.len();
    let s = stats(all);
    Measured { per_s: n as f64 / elapsed, p50_ms: s.p50, p99_ms: s.p99, n }
}

/// (sum, count) of `beat_refresh_store_duration_seconds` per store, from beat's `/metrics`.
async fn store_times(http: &reqwest::Client, base: &str) -> [(f64, f64); 2] {
    let text = http.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    let read = |store: &str, what: &str| {
        text.lines()
            .find(|l| {
                l.starts_with(&format!("beat_refresh_store_duration_seconds_{what}"))
                    && l.contains(&format!("store=\"{store}\""))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    [(read("postgres", "sum"), read("postgres", "count")), (read("clickhouse", "sum"), read("clickhouse", "count"))]
}

/// Mean milliseconds per refresh between two readings: (Postgres, ClickHouse).
fn mean_ms(before: &[(f64, f64); 2], after: &[(f64, f64); 2]) -> (f64, f64) {
    let mean = |i: usize| {
        let n = after[i].1 - before[i].1;
        if n > 0.0 {
            (after[i].0 - before[i].0) / n * 1000.0
        } else {
            0.0
        }
    };
    (mean(0), mean(1))
}

#[tokio::main]
async fn main() {
    let (pg, ch) = (testkit::pg().await, testkit::ch().await);
    let sim = platform::http::Server::bind("127.0.0.1:0", beat::simulator::Simulator::new().router()).await.unwrap();
    let simulator = testkit::serve(sim);
    // limits far above what this machine can do, so the figures are beat's, not the limits'
    for source in ["insta-best-performance", "arraybobo", "rocketapi", "graphapi"] {
        sqlx::query(
            "INSERT INTO scrape_source (source, platform, requests, per_seconds) VALUES ($1, 'instagram', 1000000, 1)",
        )
        .bind(source)
        .execute(&pg.pool)
        .await
        .unwrap();
        sqlx::query("INSERT INTO credential (source, key) VALUES ($1, 'bench-key')")
            .bind(source)
            .execute(&pg.pool)
            .await
            .unwrap();
    }
    let mut config = beat::testing::config(&pg, &ch, &simulator.base_url);
    config.refresh_limits =
        StackPolicy::parse("refresh_profile", "daily=1000000000/1day;calendar,handle=1000/1s").unwrap();
    config.provider_timeout = Duration::from_secs(10);
    config.sources[0].1.truncate(1); // insta-best-performance
    config.sources[1].1.clear();
    let app = testkit::serve(beat::build(config).await.unwrap());
    let http = reqwest::Client::builder().pool_max_idle_per_host(64).build().unwrap();

    let mut md = String::from("# beat: refreshes through the API against the provider simulator\n\n");
    md.push_str(&format!(
        "Each figure runs {} s. beat serves `GET /profiles/instagram/byhandle/{{handle}}?force_refresh=true` for a \
         new handle each time (so no single flight merges them), through insta-best-performance on the provider \
         simulator, which answers at once. A basic refresh is one provider call, the credential pick, the source's \
         Redis limit, one Postgres upsert, one ClickHouse snapshot (group-committed) and a request-log entry; a \
         full refresh adds the stacked limit, the posts call and 12 post rows in each store. The simulator is asked \
         directly with the same load for comparison; beat's overhead is the difference in p50. The load, beat, \
         the simulator and the stores share this machine's 2 cores.\n\n",
        RUN.as_secs()
    ));
    md.push_str("| clients | simulator alone (p50 / p99) | basic refresh (p50 / p99) | full refresh (p50 / p99) | beat's overhead, basic / full (p50) |\n|---|---|---|---|---|\n");
    let mut rows = Vec::new();
    let mut breakdown = Vec::new();
    for (round, clients) in [1usize, 32].into_iter().enumerate() {
        let base = simulator.base_url.clone();
        let direct = load(
            &http,
            clients,
            Arc::new(move |i| format!("{base}/insta-best-performance/profile?username=sim_{round}_{i}")),
        )
        .await;
        let url = app.base_url.clone();
        let before = store_times(&http, &app.base_url).await;
        let basic = load(
            &http,
            clients,
            Arc::new(move |i| format!("{url}/profiles/instagram/byhandle/basic_{round}_{i}?force_refresh=true")),
        )
        .await;
        let after_basic = store_times(&http, &app.base_url).await;
        breakdown.push((clients, "basic", mean_ms(&before, &after_basic)));
        let url = app.base_url.clone();
        let full = load(
            &http,
            clients,
            Arc::new(move |i| {
                format!("{url}/profiles/instagram/byhandle/full_{round}_{i}?force_refresh=true&full_refresh=true")
            }),
        )
        .await;
        breakdown.push((clients, "full", mean_ms(&after_basic, &store_times(&http, &app.base_url).await)));
        md.push_str(&format!(
            "| {clients} | {:.0}/s ({:.2} ms / {:.2} ms) | {:.0}/s ({:.2} ms / {:.2} ms) | {:.0}/s ({:.2} ms / {:.2} ms) | {:.2} ms / {:.2} ms |\n",
            direct.per_s, direct.p50_ms, direct.p99_ms, basic.per_s, basic.p50_ms, basic.p99_ms, full.per_s, full.p50_ms,
            full.p99_ms, basic.p50_ms - direct.p50_ms, full.p50_ms - 2.0 * direct.p50_ms,
        ));
        rows.push(json!({
            "clients": clients, "simulator_direct": direct.json(), "basic_refresh": basic.json(), "full_refresh": full.json(),
            "overhead_p50_ms": {"basic": basic.p50_ms - direct.p50_ms, "full": full.p50_ms - 2.0 * direct.p50_ms},
        }));
    }
    md.push_str("\nA full refresh makes two provider calls, so its overhead subtracts the simulator's p50 twice.\n");
    md.push_str(
        "\nWhere a refresh waits, from beat's own `beat_refresh_store_duration_seconds` (mean per refresh): \
         the Postgres transaction (upsert, posts, read back) and the ClickHouse snapshot (the wait for the \
         group commit's insert, which on ClickHouse 18.16 also feeds the monthly materialized views).\n\n\
         | clients | refresh | Postgres | ClickHouse |\n|---|---|---|---|\n",
    );
    for (clients, kind, (pg_ms, ch_ms)) in &breakdown {
        md.push_str(&format!("| {clients} | {kind} | {pg_ms:.2} ms | {ch_ms:.2} ms |\n"));
    }

    // the snapshot writer's insert, in bulk: a year of daily rows for thousands of profiles
    let today = Utc::now().date_naive();
    let now = Utc::now();
    let rows_data: Vec<ProfileDay> = (0..BULK_ROWS)
        .map(|i| ProfileDay {
            platform: 1,
            profile_id: (i / 365) as u64,
            date: today - chrono::Days::new((i % 365) as u64),
            followers: 10_000 + i as u64,
            following: 300,
            posts: 500,
            engagement_rate: 2.5,
            avg_likes: 250.0,
            avg_comments: 12.0,
            avg_views: 0.0,
            category: "music".to_owned(),
            ingested_at: now,
        })
        .collect();
    let mut batch_times = Vec::new();
    let started = Instant::now();
    for chunk in rows_data.chunks(BULK_BATCH) {
        let refs: Vec<&ProfileDay> = chunk.iter().collect();
        let t = Instant::now();
        insert_all(&ch.client, &refs, &[]).await.unwrap();
        batch_times.push(t.elapsed().as_secs_f64());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let stored: u64 = ch
        .client
        .query("SELECT count() FROM social_profile_time_series WHERE category = 'music'")
        .fetch_one()
        .await
        .unwrap();
    assert_eq!(stored as usize, BULK_ROWS);
    let rate = BULK_ROWS as f64 / elapsed;
    md.push_str(&format!(
        "\n## ClickHouse load rate of the snapshot writer\n\n{BULK_ROWS} daily profile snapshots inserted with the \
         writer's own `insert_all` in batches of {BULK_BATCH} rows (RowBinary over HTTP, lz4): {:.0} rows/s \
         ({elapsed:.2} s; target 500,000 rows/s). Every row was counted back.\n\nReproduce: `cargo stack bench --only beat`.\n",
        rate
    ));
    let report = json!({
        "machine": machine(),
        "run_seconds": RUN.as_secs(),
        "refresh": rows,
        "store_wait_mean_ms": breakdown.iter().map(|(c, k, (pg, ch))| json!({"clients": c, "refresh": k, "postgres": pg, "clickhouse": ch})).collect::<Vec<_>>(),
        "clickhouse_bulk_load": {"rows": BULK_ROWS, "batch_rows": BULK_BATCH, "seconds": elapsed, "rows_per_s": rate.round(),
                                  "batch_seconds": batch_times},
    });
    write_report("beat", &md, &report);
    print!("{md}");
    app.stop().await;
}
