//! The stacked limiter against its ceiling, side by side in one run (`cargo stack bench --only
//! ratelimit`, on the test stack): `redis-benchmark` sending the very same `EVALSHA` (same
//! script, same key layout, no pipelining) is what Redis itself can do; the crate is measured from
//! one process and from four, with 1 and 50 callers each, on the single node and on the cluster.
//! The nested design this crate replaces (three fixed-window limiters, one round trip each) is
//! measured with the same harness for contrast, with the daily units it leaks under a per-handle
//! flood. Also: what the in-process over-limit cache saves on a rejected flood, and `MEMORY USAGE`
//! of a key after 10 and after 100,000 decisions.
//!
//! Writes `bench/results/ratelimit.md` and `ratelimit.json`.

use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::future::join_all;
use ratelimit::{Limiter, StackPolicy};
use redis::aio::ConnectionLike;
use serde_json::{json, Value};
use testkit::bench::{machine, stats, write_report};

/// The benchmark stack: three levels, all of them written on every admitted decision. The
/// global levels are roomy and handles are drawn from a million, so nearly every decision is
/// an admission (the expensive path: three writes).
const LEVELS: &str = "daily=1000000000/1day;calendar,minute=60000000/1m,handle=1/1s";
const HANDLES: u64 = 1_000_000;
const RUN: Duration = Duration::from_secs(3);
const ROUNDS: usize = 5;

fn median(mut runs: Vec<Measured>) -> Measured {
    runs.sort_by(|a, b| a.decisions_per_s.total_cmp(&b.decisions_per_s));
    runs.swap_remove(runs.len() / 2)
}

#[derive(Clone, Copy, PartialEq)]
enum Topology {
    Single,
    /// The crate's cluster connection: each decision straight to its slot's master (`SlotRouted`).
    Cluster,
    /// redis-rs's `ClusterConnection`, which routes every command through a task of its own.
    ClusterRedisRsRouting,
}

impl Topology {
    fn label(self) -> &'static str {
        match self {
            Self::Single => "single node",
            Self::Cluster => "cluster",
            Self::ClusterRedisRsRouting => "cluster, redis-rs routing",
        }
    }

    fn load_args(self) -> Vec<String> {
        let cluster = || vec!["--cluster".to_owned(), testkit::redis_cluster_config().addresses.join(",")];
        match self {
            Self::Single => vec!["--redis".into(), testkit::redis_url()],
            Self::Cluster => cluster(),
            Self::ClusterRedisRsRouting => [cluster(), vec!["--redis-rs-routing".to_owned()]].concat(),
        }
    }
}

struct Measured {
    decisions_per_s: f64,
    p50_us: f64,
    p99_us: f64,
    admitted_share: f64,
}

impl Measured {
    fn json(&self) -> Value {
        json!({
            "decisions_per_s": self.decisions_per_s.round(),
            "p50_us": self.p50_us, "p99_us": self.p99_us,
            "admitted_share": (self.admitted_share * 1000.0).round() / 1000.0,
        })
    }
}

/// `callers` tasks share one connection (as a service does) and check for `RUN`.
async fn crate_in_process<C>(conn: C, policy: &StackPolicy, callers: usize, fixed_handle: bool) -> Measured
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    let limiter = Limiter::new(conn, &testkit::redis_prefix()).unwrap();
    let policy = Arc::new(policy.clone());
    let deadline = Instant::now() + RUN;
    let started = Instant::now();
    let tasks = (0..callers).map(|_| {
        let (limiter, policy) = (limiter.clone(), policy.clone());
        tokio::spawn(async move {
            let (mut lat, mut admitted) = (Vec::new(), 0u64);
            while Instant::now() < deadline {
                let handle = if fixed_handle { 0 } else { rand::random::<u64>() % HANDLES };
                let t = Instant::now();
                let d = limiter.stack(&policy).key("handle", &handle.to_string()).check(1).await.unwrap();
                lat.push(t.elapsed().as_secs_f64() * 1e6);
                admitted += u64::from(d.is_admitted());
            }
            (lat, admitted)
        })
    });
    let mut all = Vec::new();
    let mut admitted = 0;
    for r in join_all(tasks).await {
        let (lat, a) = r.unwrap();
        all.extend(lat);
        admitted += a;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let n = all.len() as f64;
    let s = stats(all);
    Measured { decisions_per_s: n / elapsed, p50_us: s.p50, p99_us: s.p99, admitted_share: admitted as f64 / n }
}

/// `processes` `ratelimit-load` processes (one thread each) with `callers` each, started together.
fn crate_processes(topology: Topology, processes: usize, callers: usize) -> Measured {
    let prefix = testkit::redis_prefix();
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let start_at = (now_ms + 1000).to_string();
    let children: Vec<_> = (0..processes)
        .map(|_| {
            let mut cmd = Command::new(env!("CARGO_BIN_EXE_ratelimit-load"));
            cmd.args(topology.load_args()).args(["--prefix", &prefix, "--stack", "bench"]);
            for l in LEVELS.split(',') {
                cmd.args(["--limit", l]);
            }
            cmd.args(["--handles", &HANDLES.to_string(), "--duration-ms", &RUN.as_millis().to_string()])
                .args(["--concurrency", &callers.to_string(), "--start-at-ms", &start_at])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let lines: Vec<Value> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success());
            serde_json::from_slice(&out.stdout).unwrap()
        })
        .collect();
    let sum = |k: &str| lines.iter().map(|l| l[k].as_f64().unwrap()).sum::<f64>();
    let worst = |k: &str| lines.iter().map(|l| l[k].as_f64().unwrap()).fold(0.0, f64::max);
    let median = |k: &str| {
        let mut v: Vec<f64> = lines.iter().map(|l| l[k].as_f64().unwrap()).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Measured {
        decisions_per_s: sum("decisions_per_s"),
        p50_us: median("p50_us"),
        p99_us: worst("p99_us"),
        admitted_share: sum("admitted") / (sum("admitted") + sum("rejected")),
    }
}

/// The node serving `key`'s slot, as host:port.
async fn owner_of(key: &str) -> String {
    let first = &testkit::redis_cluster_config().addresses[0];
    let mut conn =
        redis::Client::open(format!("redis://{first}")).unwrap().get_multiplexed_async_connection().await.unwrap();
    let slot: u16 = redis::cmd("CLUSTER").arg("KEYSLOT").arg(key).query_async(&mut conn).await.unwrap();
    let nodes: String = redis::cmd("CLUSTER").arg("NODES").query_async(&mut conn).await.unwrap();
    // <id> <host:port@bus> <flags> <master> <ping> <pong> <epoch> <state> <slot ranges…>
    nodes
        .lines()
        .map(|l| l.split(' ').collect::<Vec<_>>())
        .find(|f| {
            f.len() > 8
                && f[2].contains("master")
                && f[8..].iter().any(|r| {
                    let (a, b) = r.split_once('-').unwrap_or((r, r));
                    a.parse::<u16>().is_ok_and(|a| a <= slot) && b.parse::<u16>().is_ok_and(|b| slot <= b)
                })
        })
        .map(|f| f[1].split('@').next().unwrap().to_owned())
        .expect("a master serves every slot")
}

/// `processes` redis-benchmark processes started together, each with `connections`, sending
/// the crate's own EVALSHA (same keys, same arguments) to `node`: rates summed, latencies of
/// the median process (p50) and the worst (p99).
async fn ceiling(node: &str, processes: usize, connections: usize) -> Measured {
    let (host, port) = node.split_once(':').unwrap();
    let script = include_str!("../src/stack.lua");
    let mut conn =
        redis::Client::open(format!("redis://{node}")).unwrap().get_multiplexed_async_connection().await.unwrap();
    let sha: String = redis::cmd("SCRIPT").arg("LOAD").arg(script).query_async(&mut conn).await.unwrap();
    let tag = format!("{}rl:{{bench:}}", testkit::redis_prefix());
    let requests = if connections == 1 { 30_000 } else { 150_000 } / processes;
    let children: Vec<_> = (0..processes)
        .map(|_| {
            Command::new("redis-benchmark")
                .args(["-h", host, "-p", port, "-c", &connections.to_string(), "-n", &requests.to_string()])
                .args(["-r", &HANDLES.to_string(), "--csv", "--precision", "3"])
                .args(["EVALSHA", &sha, "3", &format!("{tag}:daily:"), &format!("{tag}:minute:")])
                .arg(format!("{tag}:handle:__rand_int__"))
                .args(["1", "", "c", "1000000000", "86400000", "g", "1", "60000000", "g", "1000000", "1"])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("redis-benchmark comes with redis-server")
        })
        .collect();
    let mut runs = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
        let row = text.lines().last().unwrap_or_default();
        let f: Vec<f64> = row.split(',').skip(1).map(|v| v.trim_matches('"').parse().unwrap_or(f64::NAN)).collect();
        assert!(f.len() >= 6 && f[0] > 0.0, "redis-benchmark said: {text}");
        runs.push((f[0], f[3] * 1000.0, f[5] * 1000.0));
    }
    runs.sort_by(|a, b| a.1.total_cmp(&b.1));
    Measured {
        decisions_per_s: runs.iter().map(|r| r.0).sum(),
        p50_us: runs[runs.len() / 2].1,
        p99_us: runs.iter().map(|r| r.2).fold(0.0, f64::max),
        admitted_share: f64::NAN,
    }
}

/// The nested design this crate replaces: three fixed-window limiters (`INCR` + `EXPIRE NX` in a
/// MULTI, one round trip each), each entered only when the outer ones passed, each charging as it
/// enters.
#[derive(Clone)]
struct Nested<C> {
    conn: C,
    prefix: String,
    levels: [(&'static str, u64, u64); 3],
}

impl<C: ConnectionLike + Clone + Send + Sync + 'static> Nested<C> {
    fn new(conn: C, levels: [(&'static str, u64, u64); 3]) -> Self {
        Self { conn, prefix: testkit::redis_prefix(), levels }
    }

    async fn check(&self, handle: &str) -> bool {
        let mut conn = self.conn.clone();
        for (name, requests, seconds) in self.levels {
            let key = if name == "handle" {
                format!("{}{name}:{handle}", self.prefix)
            } else {
                format!("{}{name}", self.prefix)
            };
            let (count, _): (u64, i64) = redis::pipe()
                .atomic()
                .incr(&key, 1)
                .cmd("EXPIRE")
                .arg(&key)
                .arg(seconds)
                .arg("NX")
                .query_async(&mut conn)
                .await
                .unwrap();
            if count > requests {
                return false;
            }
        }
        true
    }

    async fn daily_units(&self) -> u64 {
        let mut conn = self.conn.clone();
        redis::cmd("GET")
            .arg(format!("{}daily", self.prefix))
            .query_async::<Option<u64>>(&mut conn)
            .await
            .unwrap()
            .unwrap_or(0)
    }
}

async fn nested_in_process<C>(conn: C, callers: usize) -> Measured
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    let nested = Nested::new(conn, [("daily", 1_000_000_000, 86_400), ("minute", 60_000_000, 60), ("handle", 1, 1)]);
    let deadline = Instant::now() + RUN;
    let started = Instant::now();
    let tasks = (0..callers).map(|_| {
        let nested = nested.clone();
        tokio::spawn(async move {
            let (mut lat, mut admitted) = (Vec::new(), 0u64);
            while Instant::now() < deadline {
                let handle = (rand::random::<u64>() % HANDLES).to_string();
                let t = Instant::now();
                admitted += u64::from(nested.check(&handle).await);
                lat.push(t.elapsed().as_secs_f64() * 1e6);
            }
            (lat, admitted)
        })
    });
    let (mut all, mut admitted) = (Vec::new(), 0);
    for r in join_all(tasks).await {
        let (lat, a) = r.unwrap();
        all.extend(lat);
        admitted += a;
    }
    let n = all.len() as f64;
    let elapsed = started.elapsed().as_secs_f64();
    let s = stats(all);
    Measured { decisions_per_s: n / elapsed, p50_us: s.p50, p99_us: s.p99, admitted_share: admitted as f64 / n }
}

/// 1,000 concurrent refreshes of 10 handles under the refresh limits (20,000 a day, 60 a
/// minute, 1 a second per handle): how many daily units each design spends, and on how many
/// admissions.
async fn leak<C>(conn: C) -> Value
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    let nested = Nested::new(conn.clone(), [("daily", 20_000, 86_400), ("minute", 60, 60), ("handle", 1, 1)]);
    let seed_admitted = join_all((0..1000).map(|i| {
        let n = nested.clone();
        async move { n.check(&(i % 10).to_string()).await }
    }))
    .await
    .into_iter()
    .filter(|a| *a)
    .count() as u64;
    let seed_spent = nested.daily_units().await;

    let limiter = Limiter::new(conn, &testkit::redis_prefix()).unwrap();
    let policy = StackPolicy::parse("leak", "daily=20000/1day;calendar,minute=60/1m,handle=1/1s").unwrap();
    let decisions = join_all((0..1000).map(|i| {
        let stack = limiter.stack(&policy).key("handle", &(i % 10).to_string());
        async move { stack.check(1).await.unwrap().is_admitted() }
    }))
    .await;
    let crate_admitted = decisions.into_iter().filter(|a| *a).count() as u64;
    let left = limiter.stack(&policy).key("handle", "probe").peek().await.unwrap();
    let crate_spent = 20_000 - left.level("daily").unwrap().remaining;
    json!({
        "attempts": 1000, "handles": 10,
        "seed_nested": { "admitted": seed_admitted, "daily_units_spent": seed_spent, "leaked": seed_spent - seed_admitted },
        "stacked": { "admitted": crate_admitted, "daily_units_spent": crate_spent, "leaked": crate_spent - crate_admitted },
    })
}

/// A flood against an exhausted level, with and without the in-process over-limit cache.
async fn rejected_flood<C>(conn: C, local_cache: bool) -> Measured
where
    C: ConnectionLike + Clone + Send + Sync + 'static,
{
    let policy = StackPolicy::parse("flood", "hourly=60/1h").unwrap().local_cache(local_cache);
    let limiter = Limiter::new(conn.clone(), &testkit::redis_prefix()).unwrap();
    for _ in 0..60 {
        limiter.stack(&policy).check(1).await.unwrap();
    }
    let deadline = Instant::now() + RUN;
    let started = Instant::now();
    let tasks = (0..50).map(|_| {
        let (limiter, policy) = (limiter.clone(), policy.clone());
        tokio::spawn(async move {
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let d = limiter.stack(&policy).check(1).await.unwrap();
                lat.push(t.elapsed().as_secs_f64() * 1e6);
                assert!(!d.is_admitted());
                // a local rejection never waits, so yield as a finished request task would;
                // both sides pay this
                tokio::task::yield_now().await;
            }
            lat
        })
    });
    let all: Vec<f64> = join_all(tasks).await.into_iter().flat_map(|r| r.unwrap()).collect();
    let n = all.len() as f64;
    let elapsed = started.elapsed().as_secs_f64();
    let s = stats(all);
    Measured { decisions_per_s: n / elapsed, p50_us: s.p50, p99_us: s.p99, admitted_share: 0.0 }
}

/// `MEMORY USAGE` of each level's key after 10 and after 100,000 admitted decisions.
async fn memory_per_key() -> Value {
    let client = redis::Client::open(testkit::redis_url()).unwrap();
    let conn = client.get_multiplexed_async_connection().await.unwrap();
    let limiter = Limiter::new(conn.clone(), &testkit::redis_prefix()).unwrap();
    let policy =
        StackPolicy::parse("memory", "daily=1000000000/1day;calendar,minute=60000000/1m,handle=1000000/1s").unwrap();
    let stack = limiter.stack(&policy).key("handle", "fixed");
    let usage = |conn: redis::aio::MultiplexedConnection, keys: Vec<String>| async move {
        let mut out = Vec::new();
        for k in keys {
            let mut c = conn.clone();
            out.push(redis::cmd("MEMORY").arg("USAGE").arg(&k).query_async::<u64>(&mut c).await.unwrap());
        }
        out
    };
    let mut done = 0u64;
    let mut after = Vec::new();
    for target in [10u64, 100_000] {
        while done < target {
            let n = (target - done).min(1000);
            for r in join_all((0..n).map(|_| stack.check(1))).await {
                assert!(r.unwrap().is_admitted());
            }
            done += n;
        }
        after.push(usage(conn.clone(), stack.redis_keys()).await);
    }
    let levels: Vec<Value> = policy
        .limits()
        .iter()
        .enumerate()
        .map(|(i, l)| json!({"level": l.name(), "algorithm": l.algorithm().to_string(), "bytes_after_10": after[0][i], "bytes_after_100000": after[1][i]}))
        .collect();
    json!(levels)
}

fn ratio(a: f64, b: f64) -> f64 {
    (a / b * 1000.0).round() / 1000.0
}

#[tokio::main]
async fn main() {
    let single = redis::Client::open(testkit::redis_url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let cluster = store::redis_cluster::connect(&testkit::redis_cluster_config()).await.unwrap();
    let routed = ratelimit::SlotRouted::new(cluster.clone(), Default::default(), Duration::from_secs(2));
    let policy = StackPolicy::parse("bench", LEVELS).unwrap();
    let tag_key = "x{bench:}";
    let nodes = [
        (Topology::Single, testkit::redis_url().trim_start_matches("redis://").to_owned()),
        (Topology::Cluster, owner_of(tag_key).await),
        (Topology::ClusterRedisRsRouting, owner_of(tag_key).await),
    ];

    let mut rows = Vec::new();
    let mut md = String::from("# Stacked rate limiter: throughput against the Redis ceiling\n\n");
    md.push_str(&format!(
        "Stack: `{LEVELS}` (three levels, all written on each admission; handles drawn from {HANDLES}). \
         Each measurement runs {} s; the table shows the median of {ROUNDS} interleaved rounds. The \
         ceiling is `redis-benchmark` sending the same `EVALSHA` with the same keys and arguments, one \
         connection per client, no pipelining: one process beside the crate's one process, four started \
         together beside the crate's four, so both sides have the same callers in the same number of \
         processes. The crate runs in `ratelimit-load` processes (one thread \
         each; its callers share one multiplexed connection, as a service's do), one process or four \
         started together. On the cluster the crate sends each decision straight to its slot's master \
         (`SlotRouted`, falling back to redis-rs's routing for redirects); the row \"cluster, redis-rs \
         routing\" is the same crate over redis-rs's `ClusterConnection`, which passes every command \
         through a routing task of its own. Redis, the load and the clients share this machine's 2 cores, so every figure \
         includes the client's own CPU taken from Redis.\n\n",
        RUN.as_secs()
    ));
    md.push_str("| topology | callers | redis-benchmark, same EVALSHA (p50 / p99) | crate, 1 process (p50 / p99) | ratio | crate, 4 processes (callers each) | redis-benchmark, 4 processes (connections each) | ratio |\n|---|---|---|---|---|---|---|---|\n");
    for (topology, node) in &nodes {
        for callers in [1usize, 50] {
            // three interleaved rounds, the median of each side, so a noisy moment on this
            // shared machine lands on both sides rather than on one
            let (mut ceil, mut one, mut ceil4, mut four) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                ceil.push(ceiling(node, 1, callers).await);
                one.push(crate_processes(*topology, 1, callers));
                ceil4.push(ceiling(node, 4, callers).await);
                four.push(crate_processes(*topology, 4, callers));
            }
            let (ceil, one, ceil4, four) = (median(ceil), median(one), median(ceil4), median(four));
            md.push_str(&format!(
                "| {} | {callers} | {:.0}/s ({:.0} µs / {:.0} µs) | {:.0}/s ({:.0} µs / {:.0} µs) | {:.2} | {:.0}/s | {:.0}/s | {:.2} |\n",
                topology.label(),
                ceil.decisions_per_s,
                ceil.p50_us,
                ceil.p99_us,
                one.decisions_per_s,
                one.p50_us,
                one.p99_us,
                one.decisions_per_s / ceil.decisions_per_s,
                four.decisions_per_s,
                ceil4.decisions_per_s,
                four.decisions_per_s / ceil4.decisions_per_s,
            ));
            rows.push(json!({
                "topology": topology.label(), "callers": callers,
                "ceiling_redis_benchmark": ceil.json(),
                "ceiling_redis_benchmark_four_processes": ceil4.json(),
                "crate_one_process": one.json(),
                "crate_four_processes": four.json(),
                "ratio_one_process_to_ceiling": ratio(one.decisions_per_s, ceil.decisions_per_s),
                "ratio_four_processes_to_ceiling_four_processes": ratio(four.decisions_per_s, ceil4.decisions_per_s),
            }));
        }
    }

    md.push_str("\n## The nested design: three limiters, three round trips\n\n");
    md.push_str("| topology | callers | nested (3 round trips) | stacked (1 round trip) | stacked / nested | nested p50 / p99 |\n|---|---|---|---|---|---|\n");
    let mut seed_rows = Vec::new();
    for topology in [Topology::Single, Topology::Cluster] {
        for callers in [1usize, 50] {
            // both designs measured in this process, with the same loop
            let (nested, stacked) = match topology {
                Topology::Single => (
                    nested_in_process(single.clone(), callers).await,
                    crate_in_process(single.clone(), &policy, callers, false).await,
                ),
                Topology::Cluster => (
                    nested_in_process(cluster.clone(), callers).await,
                    crate_in_process(routed.clone(), &policy, callers, false).await,
                ),
                Topology::ClusterRedisRsRouting => unreachable!("the nested design is measured on two topologies"),
            };
            md.push_str(&format!(
                "| {} | {callers} | {:.0}/s | {:.0}/s | {:.2} | {:.0} µs / {:.0} µs |\n",
                topology.label(),
                nested.decisions_per_s,
                stacked.decisions_per_s,
                stacked.decisions_per_s / nested.decisions_per_s,
                nested.p50_us,
                nested.p99_us
            ));
            seed_rows.push(json!({
                "topology": topology.label(), "callers": callers,
                "nested": nested.json(), "stacked": stacked.json(),
                "ratio_stacked_to_nested": ratio(stacked.decisions_per_s, nested.decisions_per_s),
            }));
        }
    }
    md.push_str(
        "\nWith one caller the round trips are the cost, and one script beats three transactions. With 50 \
         callers sharing a connection, the nested design's small commands pipeline and cost Redis less CPU \
         than one Lua evaluation, so it can answer more decisions per second; it buys that by charging the \
         outer budgets for requests an inner level rejects (below) and by deciding each level on its own, \
         with no atomicity across levels.\n",
    );
    let leaked = leak(single.clone()).await;
    md.push_str(&format!(
        "\nBudget leak: {} concurrent refreshes of {} handles under 20,000/day, 60/minute, 1/second per handle. \
         Nested: {} admitted, {} daily units spent ({} leaked). Stacked: {} admitted, {} daily units spent ({} leaked).\n",
        leaked["attempts"], leaked["handles"],
        leaked["seed_nested"]["admitted"], leaked["seed_nested"]["daily_units_spent"], leaked["seed_nested"]["leaked"],
        leaked["stacked"]["admitted"], leaked["stacked"]["daily_units_spent"], leaked["stacked"]["leaked"],
    ));

    let with_cache = rejected_flood(single.clone(), true).await;
    let without = rejected_flood(single.clone(), false).await;
    md.push_str(&format!(
        "\n## In-process over-limit cache\n\n50 callers flooding an exhausted level (single node): {:.0} rejections/s \
         with the cache (p50 {:.1} µs, no round trip) vs {:.0}/s asking Redis each time (p50 {:.0} µs): {:.1}x. \
         It stays on by default; it can only reject, never admit.\n",
        with_cache.decisions_per_s,
        with_cache.p50_us,
        without.decisions_per_s,
        without.p50_us,
        with_cache.decisions_per_s / without.decisions_per_s
    ));

    let memory = memory_per_key().await;
    md.push_str("\n## Memory per key (`MEMORY USAGE`)\n\n| level | algorithm | after 10 decisions | after 100,000 |\n|---|---|---|---|\n");
    for l in memory.as_array().unwrap() {
        md.push_str(&format!(
            "| {} | {} | {} B | {} B |\n",
            l["level"].as_str().unwrap(),
            l["algorithm"].as_str().unwrap(),
            l["bytes_after_10"],
            l["bytes_after_100000"]
        ));
    }
    md.push_str("\nReproduce: `cargo stack bench --only ratelimit`.\n");

    let report = json!({
        "machine": machine(),
        "stack": LEVELS,
        "handles": HANDLES,
        "run_seconds": RUN.as_secs(),
        "throughput": rows,
        "seed_design": seed_rows,
        "budget_leak": leaked,
        "local_cache": {
            "with": with_cache.json(), "without": without.json(),
            "ratio": ratio(with_cache.decisions_per_s, without.decisions_per_s),
        },
        "memory_per_key": memory,
    });
    write_report("ratelimit", &md, &report);
    print!("{md}");
}
