//! Load without loss: mixed traffic through the gateway (profile views, searches, collection
//! writes, refreshes through beat from the provider simulator, logins and logouts) while the
//! Redis Cluster that the gateway and coffee share is stopped and started again in the middle
//! of the run (real processes of the test's own cluster).
//!
//! What must hold: no request is answered with a 500, 502 or 504 (a 503 is allowed only with
//! `Retry-After`), every collection write that was acknowledged is in Postgres afterwards, and
//! every logout made during the run, also while Redis was down, holds once Redis is back.
//!
//! `SOAK_SECONDS` bounds the run (default 10: the short version the test command runs). The long
//! version is `cargo stack soak` (default 180 s), which also writes
//! `bench/results/soak.{md,json}`: the answers per kind of request, their latency, and the
//! resident set sampled through the run. The resident set is that of the one process that runs
//! the gateway, coffee, beat, the simulator and the load; a long run also asserts that it stays
//! flat (the last third of the run no more than a quarter above the first, plus 32 MiB).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

/// Concurrent clients, each with its own session.
const CLIENTS: usize = 6;

/// What one client asks for, by turn: mostly reads, some writes, a refresh, now and then a
/// whole login and logout (argon2 makes logins the dearest request).
fn kind_of(turn: usize) -> &'static str {
    match turn % 20 {
        0..=7 => "view",
        8..=11 => "search",
        12..=15 => "collection write",
        16..=18 => "refresh",
        _ => "login and logout",
    }
}

#[derive(Default)]
struct Tally {
    /// kind → status → count
    answers: BTreeMap<&'static str, BTreeMap<u16, u64>>,
    /// kind → latencies (ms)
    latency: BTreeMap<&'static str, Vec<f64>>,
    /// answers that break the rules: (kind, status, body)
    bad: Vec<(&'static str, u16, String)>,
    /// collection names whose create was acknowledged (201)
    acknowledged: Vec<String>,
    /// tokens whose logout was acknowledged (204 or 202)
    logged_out: Vec<String>,
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("VmRSS:")).map(str::to_owned))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0)
}

async fn client(edge: Arc<Edge>, id: usize, until: Instant, tally: Arc<Mutex<Tally>>) {
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let mut turn = id * 7;
    while Instant::now() < until {
        turn += 1;
        let kind = kind_of(turn);
        let started = Instant::now();
        let (status, retry_after, body) = match kind {
            "view" => {
                send(&edge, Method::GET, &format!("/coffee/profiles/instagram/{}", 1 + turn % 4), &token, None).await
            }
            "search" => {
                send(&edge, Method::POST, "/coffee/profiles/instagram/search", &token, Some(json!({"size": 10}))).await
            }
            "collection write" => {
                let name = format!("soak {id}-{turn}");
                let answer =
                    send(&edge, Method::POST, "/coffee/collections", &token, Some(json!({ "name": name }))).await;
                if answer.0 == 201 {
                    tally.lock().unwrap().acknowledged.push(name);
                }
                answer
            }
            "refresh" => {
                let path = format!("/beat/profiles/instagram/byhandle/soak_{id}_{}?force_refresh=true", turn % 50);
                send(&edge, Method::GET, &path, &token, None).await
            }
            _ => {
                let (status, body) = edge
                    .call(
                        Method::POST,
                        "/identity/login",
                        None,
                        Some(json!({"email": datagen::DEMO_FREE_EMAIL, "password": datagen::DEMO_PASSWORD})),
                    )
                    .await;
                match body["token"].as_str().filter(|_| status == 200) {
                    Some(session) => {
                        let session = session.to_owned();
                        let answer = send(&edge, Method::POST, "/identity/logout", &session, None).await;
                        if matches!(answer.0, 202 | 204) {
                            tally.lock().unwrap().logged_out.push(session);
                        }
                        answer
                    }
                    None => (status, false, body.to_string()),
                }
            }
        };
        let elapsed = started.elapsed().as_secs_f64() * 1e3;
        let mut t = tally.lock().unwrap();
        *t.answers.entry(kind).or_default().entry(status).or_default() += 1;
        t.latency.entry(kind).or_default().push(elapsed);
        if matches!(status, 500 | 502 | 504) || (status == 503 && !retry_after) {
            t.bad.push((kind, status, body));
        }
    }
}

/// (status, whether a `Retry-After` came, body)
async fn send(edge: &Edge, method: Method, path: &str, token: &str, body: Option<Value>) -> (u16, bool, String) {
    let mut req = edge.http.request(method, edge.url(path)).bearer_auth(token);
    if let Some(body) = body {
        req = req.json(&body);
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status().as_u16();
            let retry_after = resp.headers().contains_key("retry-after");
            (status, retry_after, resp.text().await.unwrap_or_default())
        }
        // the gateway closed the connection or never answered: as bad as a 502
        Err(e) => (502, false, e.to_string()),
    }
}

#[tokio::test]
async fn mixed_traffic_through_a_redis_cluster_restart_loses_nothing() {
    let seconds: u64 = std::env::var("SOAK_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(10);
    let mut cluster = testkit::redis_cluster::PrivateCluster::start().await;
    let edge = Arc::new(
        edge_with(Setup {
            redis: cluster.config(),
            beat: Some("daily=100000000/1day;calendar,minute=10000000/1m,handle=1000000/1s"),
            ..Setup::default()
        })
        .await,
    );
    let tally = Arc::new(Mutex::new(Tally::default()));
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let clients: Vec<_> = (0..CLIENTS).map(|id| tokio::spawn(client(edge.clone(), id, until, tally.clone()))).collect();

    // the outage: the middle third of the run
    let mut rss = Vec::new();
    let (outage_from, outage_to) = (Duration::from_secs(seconds) / 3, Duration::from_secs(seconds) * 2 / 3);
    let mut outage = None;
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let at = started.elapsed();
        rss.push((at.as_secs_f64(), rss_mib()));
        if outage.is_none() && at >= outage_from {
            cluster.stop();
            outage = Some((at, None));
        } else if let Some((from, None)) = outage {
            if at >= outage_to {
                cluster.restart().await;
                outage = Some((from, Some(started.elapsed())));
            }
        }
    }
    for c in clients {
        c.await.expect("a client panicked");
    }
    if let Some((_, None)) = outage {
        cluster.restart().await;
    }
    let t = Arc::try_unwrap(tally).ok().expect("clients done").into_inner().unwrap();
    let total: u64 = t.answers.values().flat_map(|s| s.values()).sum();
    eprintln!("soak: {total} requests in {seconds} s, answers {:?}", t.answers);
    assert!(t.bad.is_empty(), "answers that break the rules: {:?}", &t.bad[..t.bad.len().min(10)]);
    assert!(t.answers.len() == 5, "every kind of request ran: {:?}", t.answers);

    // every acknowledged write is there
    let kept: Vec<String> = sqlx::query_scalar("SELECT name FROM profile_collection WHERE name = ANY($1)")
        .bind(&t.acknowledged)
        .fetch_all(&edge.pg.pool)
        .await
        .unwrap();
    let missing: Vec<&String> = t.acknowledged.iter().filter(|n| !kept.contains(n)).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged writes are missing: {missing:?}",
        missing.len(),
        t.acknowledged.len()
    );
    // every logout holds once Redis is back (those made while it was down reach it late)
    for session in &t.logged_out {
        assert!(
            eventually(Duration::from_secs(20), || async { edge.get("/coffee/collections", session).await == 401 })
                .await,
            "a logged-out session still serves"
        );
    }

    // the resident set over the run (the process runs the gateway, coffee, beat and the load)
    let third = rss.len() / 3;
    let median = |s: &[(f64, f64)]| {
        let mut v: Vec<f64> = s.iter().map(|(_, m)| *m).collect();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or_default()
    };
    let (first, last) = (median(&rss[..third]), median(&rss[rss.len() - third..]));
    if seconds >= 60 {
        assert!(last <= first * 1.25 + 32.0, "memory grew from {first:.0} MiB to {last:.0} MiB");
    }
    if std::env::var_os("SOAK_REPORT").is_some() {
        report(seconds, &t, &rss, (first, last), outage.map(|(from, to)| (from, to.unwrap_or(from))));
    }
    Arc::try_unwrap(edge).ok().expect("clients done").stop().await;
}

fn report(
    seconds: u64,
    t: &Tally,
    rss: &[(f64, f64)],
    (first, last): (f64, f64),
    outage: Option<(Duration, Duration)>,
) {
    use std::fmt::Write as _;
    let machine = testkit::bench::machine();
    let (from, to) = outage.map_or((0.0, 0.0), |(f, t)| (f.as_secs_f64(), t.as_secs_f64()));
    let mut md = format!(
        "# Soak: mixed traffic through a Redis Cluster restart\n\n\
         Machine: {} ({} cores). Generated by `cargo stack soak --seconds {seconds}` on {}. {CLIENTS} clients, each \
         with its own session, sent views, searches, collection writes, refreshes through beat (from the provider \
         simulator) and login+logout pairs through the gateway for {seconds} s. The Redis Cluster the gateway and \
         coffee share (real processes of the run's own) was stopped at {from:.0} s and started again at {to:.0} s.\n\n\
         Rules checked: no 500, 502 or 504, a 503 only with `Retry-After` ({} broke them); every acknowledged \
         collection write in Postgres afterwards ({} acknowledged, all present); every acknowledged logout ({}) \
         refused afterwards.\n\n\
         | request | answers | p50 (ms) | p95 (ms) | p99 (ms) |\n|---|---|---|---|---|\n",
        machine["cpu"].as_str().unwrap_or("?"),
        machine["cores"],
        chrono::Utc::now().format("%Y-%m-%d"),
        t.bad.len(),
        t.acknowledged.len(),
        t.logged_out.len(),
    );
    let mut kinds = Vec::new();
    for (kind, statuses) in &t.answers {
        let s = testkit::bench::stats(t.latency[kind].clone());
        let answers: Vec<String> = statuses.iter().map(|(status, n)| format!("{n}× {status}")).collect();
        let _ = writeln!(md, "| {kind} | {} | {:.1} | {:.1} | {:.1} |", answers.join(", "), s.p50, s.p95, s.p99);
        kinds.push(
            json!({"kind": kind, "statuses": statuses, "n": s.n, "p50_ms": s.p50, "p95_ms": s.p95, "p99_ms": s.p99}),
        );
    }
    let peak = rss.iter().map(|(_, m)| *m).fold(0.0, f64::max);
    let _ = write!(
        md,
        "\nResident set of the process (gateway, coffee, beat, simulator and load together, a debug build as the \
         test command's), sampled every 0.5 s: median {first:.0} MiB over the first third of the run, {last:.0} MiB over the last third, peak {peak:.0} MiB.\n"
    );
    let report = json!({
        "machine": machine,
        "seconds": seconds,
        "clients": CLIENTS,
        "outage_s": {"from": from, "to": to},
        "requests": kinds,
        "broken_rules": t.bad.len(),
        "acknowledged_writes": t.acknowledged.len(),
        "acknowledged_logouts": t.logged_out.len(),
        "rss_mib": {"first_third_median": first, "last_third_median": last, "peak": peak, "samples": rss},
    });
    testkit::bench::write_report("soak", &md, &report);
}
