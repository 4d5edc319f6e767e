//! The task queue against its ceiling, side by side in one run (`cargo stack bench --only
//! queue`, on the test stack): claim + complete throughput of the queue's own SQL with a no-op
//! flow and 8 workers at batch sizes 1, 10 and 50, next to `pgbench` running the same SKIP
//! LOCKED claim and the same completion at the same batch size and client count. Also the bulk
//! enqueue rate, per-task against batched completion, and tasks per second end to end through
//! the provider simulator with 8 workers.
//!
//! Writes `bench/results/queue.md` and `queue.json`.

use std::time::{Duration, Instant};

use beat::queue::repo::{self, NewTask};
use domain::Platform;
use futures::future::join_all;
use serde_json::{json, Value};
use sqlx::PgPool;
use testkit::bench::{machine, write_report};

const TASKS: usize = 40_000;
const WORKERS: usize = 8;
const LEASE: Duration = Duration::from_secs(60);

fn noop(i: usize) -> NewTask {
    NewTask {
        flow: "noop".parse().unwrap(),
        platform: Platform::Instagram,
        target: format!("t{i}"),
        priority: Some((i % 3) as i16),
        max_attempts: 5,
        run_after: None,
    }
}

/// Empties the queue and enqueues `TASKS` no-op tasks, 10,000 per statement; tasks per second.
async fn refill(pg: &PgPool) -> f64 {
    sqlx::query("TRUNCATE scrape_task CASCADE").execute(pg).await.unwrap();
    let tasks: Vec<NewTask> = (0..TASKS).map(noop).collect();
    let started = Instant::now();
    for chunk in tasks.chunks(10_000) {
        repo::enqueue_many(pg, chunk).await.unwrap();
    }
    let rate = TASKS as f64 / started.elapsed().as_secs_f64();
    sqlx::query("VACUUM ANALYZE scrape_task").execute(pg).await.unwrap();
    rate
}

/// 8 workers claim `batch` at a time and complete what they claimed, until the queue is empty.
async fn crate_side(pg: &PgPool, batch: i64, batched_completion: bool) -> f64 {
    let started = Instant::now();
    let workers = (0..WORKERS).map(|w| {
        let pg = pg.clone();
        tokio::spawn(async move {
            let me = format!("bench-{w}");
            let flows = vec!["noop".to_owned()];
            let mut done = 0usize;
            loop {
                let claimed = repo::claim(&pg, &me, &flows, batch, LEASE).await.unwrap();
                if claimed.is_empty() {
                    return done;
                }
                let ids: Vec<i64> = claimed.iter().map(|t| t.id).collect();
                if batched_completion {
                    done += repo::complete_many(&pg, &me, &ids).await.unwrap() as usize;
                } else {
                    for id in ids {
                        done += usize::from(repo::complete(&pg, &me, id).await.unwrap());
                    }
                }
            }
        })
    });
    let done: usize = join_all(workers).await.into_iter().map(|r| r.unwrap()).sum();
    assert_eq!(done, TASKS);
    TASKS as f64 / started.elapsed().as_secs_f64()
}

/// pgbench with 8 clients running the same claim and the same completion (of everything the
/// client holds) until the tasks are gone.
fn pgbench_side(url: &str, batch: i64) -> f64 {
    let script = "WITH claimed AS (UPDATE scrape_task SET status = 'RUNNING', locked_by = 'pgbench-' || :client_id, \
        lease_until = now() + interval '60 seconds', attempts = attempts + 1, started_at = now(), finished_at = NULL \
        WHERE id IN (SELECT id FROM scrape_task WHERE status = 'PENDING' AND run_after <= now() AND flow = ANY('{noop}') \
        ORDER BY priority DESC, run_after, id LIMIT :batch FOR UPDATE SKIP LOCKED) RETURNING id) SELECT count(*) FROM claimed;\n\
        UPDATE scrape_task SET status = 'SUCCEEDED', locked_by = NULL, lease_until = NULL, last_error = NULL, \
        finished_at = now() WHERE locked_by = 'pgbench-' || :client_id AND status = 'RUNNING';\n";
    let file = std::env::temp_dir().join(format!("queue-bench-{}.sql", std::process::id()));
    std::fs::write(&file, script).unwrap();
    let per_client = (TASKS as i64 / batch / WORKERS as i64).max(1);
    let out = std::process::Command::new("pgbench")
        .args(["-n", "-c", &WORKERS.to_string(), "-j", "2", "-t", &per_client.to_string()])
        .args(["-D", &format!("batch={batch}"), "-f"])
        .arg(&file)
        .arg(url)
        .output()
        .expect("pgbench comes with the postgresql package");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "pgbench: {text} {}", String::from_utf8_lossy(&out.stderr));
    // "tps = 1234.5 (without initial connection time)": one transaction = one claim + completion
    let tps: f64 = text
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse().ok())
        .expect("pgbench reports tps");
    tps * batch as f64
}

#[tokio::main]
async fn main() {
    let pg = testkit::pg().await;
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(16).connect(&pg.url()).await.unwrap();
    let mut md = String::from("# beat's task queue: claim + complete against pgbench\n\n");
    md.push_str(&format!(
        "{TASKS} no-op tasks (enqueued 10,000 per statement before each run) drained by {WORKERS} workers: each \
         claims a batch with the queue's `FOR UPDATE SKIP LOCKED` statement and completes it. pgbench runs the \
         same claim and a completion of everything the client holds, with {WORKERS} clients, as the ceiling of \
         this machine. Tasks per second; Postgres, the workers and pgbench share 2 cores.\n\n\
         | batch | pgbench (same SQL) | queue, batched completion | ratio | queue, one completion per task |\n|---|---|---|---|---|\n"
    ));
    let mut rows = Vec::new();
    let mut enqueue_rates = Vec::new();
    for batch in [1i64, 10, 50] {
        enqueue_rates.push(refill(&pool).await);
        let ceiling = pgbench_side(&pg.url(), batch);
        enqueue_rates.push(refill(&pool).await);
        let batched = crate_side(&pool, batch, true).await;
        enqueue_rates.push(refill(&pool).await);
        let single = crate_side(&pool, batch, false).await;
        md.push_str(&format!(
            "| {batch} | {ceiling:.0}/s | {batched:.0}/s | {:.2} | {single:.0}/s |\n",
            batched / ceiling
        ));
        rows.push(json!({"batch": batch, "pgbench": ceiling.round(), "queue_batched_completion": batched.round(),
                         "ratio": (batched / ceiling * 100.0).round() / 100.0, "queue_single_completion": single.round()}));
    }
    enqueue_rates.sort_by(f64::total_cmp);
    let enqueue = enqueue_rates[enqueue_rates.len() / 2];
    md.push_str(&format!(
        "\nBulk enqueue (10,000 tasks per statement, duplicates resolved, workers notified): {enqueue:.0} tasks/s \
         (median of {} loads).\n",
        enqueue_rates.len()
    ));
    md.push_str(
        "\nThe workers complete each task on its own: a refresh takes milliseconds (its stores' writes), so a \
         completion statement per task is not where the time goes; batching completions pays only for tasks as \
         cheap as these no-ops.\n",
    );
    let e2e = end_to_end().await;
    md.push_str(&format!(
        "\n## End to end\n\n{} profile refreshes enqueued in bulk and run by {} workers of one beat against the \
         provider simulator (answering at once): {:.0} tasks/s, {:.1} s in all; each task refreshes a creator in \
         Postgres and writes its snapshot to ClickHouse.\n\nReproduce: `cargo stack bench --only queue`.\n",
        e2e["tasks"],
        e2e["workers"],
        e2e["tasks_per_s"].as_f64().unwrap(),
        e2e["seconds"].as_f64().unwrap()
    ));
    let report = json!({
        "machine": machine(),
        "tasks_per_run": TASKS,
        "workers": WORKERS,
        "claim_complete": rows,
        "bulk_enqueue_tasks_per_s": enqueue.round(),
        "end_to_end": e2e,
    });
    write_report("queue", &md, &report);
    print!("{md}");
}

async fn end_to_end() -> Value {
    const N: usize = 2000;
    let (pg, ch) = (testkit::pg().await, testkit::ch().await);
    let sim = platform::http::Server::bind("127.0.0.1:0", beat::simulator::Simulator::new().router()).await.unwrap();
    let simulator = testkit::serve(sim);
    sqlx::query("INSERT INTO scrape_source (source, platform, requests, per_seconds) VALUES ('insta-best-performance', 'instagram', 1000000, 1)")
        .execute(&pg.pool)
        .await
        .unwrap();
    sqlx::query("INSERT INTO credential (source, key) VALUES ('insta-best-performance', 'bench')")
        .execute(&pg.pool)
        .await
        .unwrap();
    let tasks: Vec<NewTask> = (0..N)
        .map(|i| NewTask { flow: "profile_refresh".parse().unwrap(), target: format!("creator_{i}"), ..noop(i) })
        .collect();
    repo::enqueue_many(&pg.pool, &tasks).await.unwrap();
    let mut config = beat::testing::config(&pg, &ch, &simulator.base_url);
    config.provider_timeout = Duration::from_secs(10);
    config.sources[0].1.truncate(1); // insta-best-performance
    config.sources[1].1.clear();
    config.workers = Some(beat::config::Workers {
        concurrency: WORKERS,
        lease: Duration::from_secs(30),
        poll: Duration::from_secs(1),
        ..beat::testing::workers(Duration::from_secs(1))
    });
    let started = Instant::now();
    let app = testkit::serve(beat::build(config).await.unwrap());
    loop {
        let done: i64 = sqlx::query_scalar("SELECT count(*) FROM scrape_task WHERE status = 'SUCCEEDED'")
            .fetch_one(&pg.pool)
            .await
            .unwrap();
        if done as usize == N {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "only {done} of {N} done");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    app.stop().await;
    json!({"tasks": N, "workers": WORKERS, "seconds": seconds, "tasks_per_s": (N as f64 / seconds).round()})
}
