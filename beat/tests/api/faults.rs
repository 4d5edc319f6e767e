//! Postgres failing under beat, on the real server: the backends serving this beat's pools are
//! frozen with SIGSTOP (`testkit::freeze`: a stalled server as beat sees it, while the other
//! tests' databases go on) and resumed with SIGCONT. beat answers at its query deadline, then
//! at once from its breaker, instead of hanging, keeps no task it did not acknowledge, and serves again without a restart.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::{world_with, World};

async fn enqueue(w: &World, target: &str) -> (u16, Value) {
    let body = json!({"flow": "profile_refresh", "platform": "instagram", "target": target});
    let resp = w.http.post(format!("{}/tasks", w.beat.base_url)).json(&body).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or_default())
}

async fn targets(w: &World) -> (u16, Vec<String>) {
    let (status, _, body) = w.get("/tasks").await;
    let items = body["items"].as_array().cloned().unwrap_or_default();
    (status, items.iter().filter_map(|t| t["target"].as_str().map(str::to_owned)).collect())
}

/// A frozen Postgres, as beat's API sees it: each call is a 503 naming the database at
/// `PG_QUERY_TIMEOUT_MS` (not the request's `SERVER_TIMEOUT`), and once `PG_BREAKER_FAILURES` of
/// them happened in a row, an immediate 503 without asking Postgres. No unacknowledged task is
/// kept, and the breaker's trial brings the database back without a restart.
#[tokio::test]
async fn a_frozen_postgres_is_a_503_at_the_query_deadline_then_at_once_and_served_again_without_a_restart() {
    let query_deadline = Duration::from_secs(1);
    let w = world_with(|cfg| {
        // one connection per pool, so the frozen backends are the only way to Postgres
        (cfg.pg.max_open_conns, cfg.pg.max_idle_conns) = (1, 1);
        (cfg.log_pg.max_open_conns, cfg.log_pg.max_idle_conns) = (1, 1);
        cfg.server.request_timeout = Duration::from_secs(20);
        cfg.pg_query_timeout = query_deadline;
        cfg.pg_breaker = breaker::Settings { failures: 2, cooldown: Duration::from_secs(2) };
    })
    .await;
    let (status, body) = enqueue(&w, "before_the_freeze").await;
    assert_eq!(status, 201, "{body}");
    let answer = testkit::freeze::answer;
    let list = || w.http.get(format!("{}/tasks", w.beat.base_url));
    let task = json!({"flow": "profile_refresh", "platform": "instagram", "target": "during_the_freeze"});

    let frozen = testkit::freeze::freeze_service_backends(&w.pg).await;
    assert!(frozen.backends() > 0);
    // a read, then a write: each waits out the query deadline, and the second opens the breaker;
    // then the breaker answers without asking the database
    let answers = [
        answer(list()).await,
        answer(w.http.post(format!("{}/tasks", w.beat.base_url)).json(&task)).await,
        answer(list()).await,
    ];
    drop(frozen);
    testkit::freeze::assert_deadline_then_breaker(&answers, 2, query_deadline, "the database is unavailable");

    // served again without a restart: the acknowledged task is there, the refused one is not
    assert!(testkit::eventually(Duration::from_secs(15), || async { targets(&w).await.0 == 200 }).await);
    let (_, targets) = targets(&w).await;
    assert!(targets.contains(&"before_the_freeze".to_owned()), "{targets:?}");
    assert!(!targets.contains(&"during_the_freeze".to_owned()), "an unacknowledged task was kept: {targets:?}");
}

/// A Postgres restart as beat sees it: the server terminates every connection beat's pools hold
/// (`testkit::freeze::terminate_service_backends`). The first request to meet a dead
/// connection is a 503 (not a 500); that loss makes the pools ping the
/// others before handing them out, so every later read and write is served. Every
/// acknowledged task is kept.
#[tokio::test]
async fn a_postgres_restart_costs_at_most_one_503_and_keeps_every_acknowledged_task() {
    let w = world_with(|cfg| {
        (cfg.pg.max_open_conns, cfg.pg.max_idle_conns) = (2, 2);
        (cfg.log_pg.max_open_conns, cfg.log_pg.max_idle_conns) = (1, 1);
    })
    .await;
    let mut acknowledged = Vec::new();
    for i in 0..2 {
        let target = format!("before_{i}");
        let (status, body) = enqueue(&w, &target).await;
        assert_eq!(status, 201, "{body}");
        acknowledged.push(target);
    }
    assert_eq!(targets(&w).await.0, 200);
    // the pool holds all its connections: concurrent reads make it open them
    let full = || async {
        futures::future::join_all((0..12).map(|_| targets(&w))).await;
        testkit::freeze::service_backends(&w.pg).await >= 2
    };
    assert!(testkit::eventually(Duration::from_secs(10), full).await, "the task pool's two connections open");

    let terminated = testkit::freeze::terminate_service_backends(&w.pg).await;
    assert!(terminated > 0, "beat held connections to terminate");
    let mut answers = Vec::new();
    for i in 0..5 {
        answers.push(("read", targets(&w).await.0, Value::Null));
        let target = format!("after_{i}");
        let (status, body) = enqueue(&w, &target).await;
        if status == 201 {
            acknowledged.push(target);
        }
        answers.push(("write", status, body));
    }
    let failed: Vec<_> = answers.iter().filter(|(_, status, _)| !matches!(status, 200 | 201)).collect();
    eprintln!("after {terminated} connections were terminated, refused: {failed:?}");
    assert!(failed.iter().all(|(_, status, _)| *status == 503), "only 503s: {failed:?}");
    // one lost connection found out, the others replaced unseen
    assert!(answers[1..].iter().all(|a| matches!(a.1, 200 | 201)), "only the first may fail: {answers:?}");

    let (_, targets) = targets(&w).await;
    for target in &acknowledged {
        assert!(targets.contains(target), "acknowledged {target:?} is missing: {targets:?}");
    }
}

/// Redis (the single node beat keeps its limits and credential state in) restarted under beat
/// (`testkit::relay`: the real server behind a relay that is closed and opened again): while it
/// is away beat is not ready and a refresh is a 503 with `Retry-After` (its limits cannot be
/// checked, and they fail closed), not a 500 and not a wait; once it is back beat reconnects by
/// itself and refreshes are served.
#[tokio::test]
async fn a_redis_restart_is_a_503_while_away_and_served_again_without_a_restart() {
    let redis_port = testkit::stack().redis_single_port.expect("the test stack runs a single Redis node");
    let mut relay = testkit::relay::Relay::to(redis_port).await;
    let w = world_with(|cfg| cfg.redis_url = format!("redis://127.0.0.1:{}", relay.port).into()).await;
    let refresh = |handle: &'static str| {
        let w = &w;
        async move { w.get(&format!("/profiles/instagram/byhandle/{handle}?full_refresh=true")).await }
    };
    assert_eq!(refresh("before_redis_restart").await.0, 200);

    relay.stop();
    let started = Instant::now();
    let (status, headers, body) = refresh("during_redis_restart").await;
    let waited = started.elapsed();
    assert_eq!(status, 503, "{body}");
    assert!(headers.contains_key("retry-after"), "{headers:?}");
    assert!(waited < Duration::from_secs(5), "answered within Redis's timeouts, not a hang: {waited:?}");
    let (status, _, body) = w.get("/ready").await;
    assert_eq!(status, 503, "Redis is required: {body}");

    relay.start().await;
    assert!(
        testkit::eventually(Duration::from_secs(15), || async { refresh("after_redis_restart").await.0 == 200 }).await,
        "refreshes are served again once Redis is back"
    );
    assert_eq!(w.get("/ready").await.0, 200);
}

/// Shutdown while Postgres is frozen under beat's workers, with a task running: the task's
/// outcome, the release of what did not finish and the request log's last batch each end at
/// `PG_QUERY_TIMEOUT_MS` instead of waiting on the database, so beat stops within a bound
/// (before, the release and the log writer waited as long as Postgres did). The task it could
/// not release is not lost: once its lease runs out, a reaper returns it to the queue.
#[tokio::test]
async fn a_frozen_postgres_cannot_hold_a_shutdown_and_the_running_task_is_not_lost() {
    let query_deadline = Duration::from_secs(1);
    let w = world_with(|cfg| {
        cfg.pg_query_timeout = query_deadline;
        let mut queue = crate::support::workers(Duration::from_secs(1));
        (queue.drain, queue.lease) = (Duration::from_millis(300), Duration::from_secs(2));
        cfg.workers = Some(queue);
    })
    .await;
    for source in ["insta-best-performance", "arraybobo", "rocketapi", "graphapi"] {
        w.faults(source, json!({"slow": 1.0, "slow_ms": 1500})).await;
    }
    let (status, body) = enqueue(&w, "natgeo").await;
    assert_eq!(status, 201, "{body}");
    let id = body["task"]["id"].as_i64().unwrap();
    let status_of = |pool: sqlx::PgPool| async move {
        sqlx::query_scalar::<_, String>("SELECT status FROM scrape_task WHERE id = $1")
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert!(
        testkit::eventually(Duration::from_secs(10), || async { status_of(w.pg.pool.clone()).await == "RUNNING" })
            .await
    );

    let frozen = testkit::freeze::freeze_service_backends(&w.pg).await;
    let started = Instant::now();
    let World { beat, pg, .. } = w;
    // `Running::stop` fails the test if beat has not stopped within 10 s
    beat.stop().await;
    let took = started.elapsed();
    drop(frozen);
    eprintln!("beat stopped in {took:?} with Postgres frozen");

    assert!(took < Duration::from_secs(8), "shutdown took {took:?}");

    // not lost: back in the queue, by the statements Postgres runs once it resumes (the
    // release or the outcome was sent before its deadline passed) or else by a reaper once
    // the task's lease has run out
    let returned = testkit::eventually(Duration::from_secs(10), || async {
        beat::queue::repo::reap(&pg.pool).await.unwrap();
        status_of(pg.pool.clone()).await == "PENDING"
    })
    .await;
    assert!(returned, "the task went back to the queue: {}", status_of(pg.pool.clone()).await);
}

/// The probes' settings in these tests: a silent store is found within 0.7 s.
const PROBE: breaker::ProbeSettings =
    breaker::ProbeSettings { every: Duration::from_millis(200), deadline: Duration::from_millis(500) };

/// Whether beat's `/metrics` reports the breaker of `dependency` open.
async fn breaker_open(w: &World, dependency: &str) -> bool {
    let metrics = reqwest::get(format!("{}/metrics", w.beat.base_url)).await.unwrap().text().await.unwrap();
    let label = format!("dependency=\"{dependency}\"");
    metrics.lines().any(|l| l.starts_with("beat_breaker_open{") && l.contains(&label) && l.ends_with("} 1"))
}

/// Postgres frozen under beat (its backends stopped, the probe's among them): the probe opens
/// the database breaker before any request has waited on the database, so the API's first call
/// during the freeze is refused at once, and the first probe answered after it closes it.
#[tokio::test]
async fn a_frozen_postgres_is_found_by_the_probe_so_no_request_waits_out_the_deadline() {
    let query_deadline = Duration::from_secs(8);
    let w = world_with(|cfg| {
        cfg.pg_query_timeout = query_deadline;
        cfg.server.request_timeout = Duration::from_secs(20);
        cfg.pg_probe = Some(PROBE);
    })
    .await;
    assert_eq!(targets(&w).await.0, 200);
    let probe_connected = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'bulbul-probe'";
    let probes = || async { sqlx::query_scalar::<_, i64>(probe_connected).fetch_one(&w.pg.pool).await.unwrap() };
    assert!(testkit::eventually(Duration::from_secs(5), || async { probes().await == 1 }).await);

    let frozen = testkit::freeze::freeze_service_backends(&w.pg).await;
    let frozen_at = Instant::now();
    assert!(testkit::eventually(Duration::from_secs(5), || breaker_open(&w, "postgres")).await, "the probe opened it");
    let opened_after = frozen_at.elapsed();
    let asked = Instant::now();
    let (status, _) = targets(&w).await;
    let refused_in = asked.elapsed();
    assert_eq!(status, 503);
    assert!(refused_in < query_deadline, "refused without waiting on the database ({refused_in:?})");

    drop(frozen);
    let thawed_at = Instant::now();
    assert!(testkit::eventually(Duration::from_secs(10), || async { !breaker_open(&w, "postgres").await }).await);
    let closed_after = thawed_at.elapsed();
    assert_eq!(targets(&w).await.0, 200);
    eprintln!("breaker opened {opened_after:?} after the freeze; request refused in {refused_in:?}; closed {closed_after:?} after the thaw");
}

/// ClickHouse frozen under beat (behind a relay holding every byte, as a SIGSTOPped server does
/// to its clients): the probe opens the snapshot writer's breaker, so a refresh stores its
/// creator and is told at once that the day's time series was not written, instead of waiting
/// out the insert deadline; once ClickHouse answers, refreshes store their day again.
#[tokio::test]
async fn a_frozen_clickhouse_is_found_by_the_probe_so_no_refresh_waits_out_the_deadline() {
    let relay = testkit::relay::Relay::to(testkit::stack().ch_http_port).await;
    let write_deadline = Duration::from_secs(8);
    let w = world_with(|cfg| {
        cfg.ch.port = relay.port;
        cfg.ch_write_timeout = write_deadline;
        cfg.server.request_timeout = Duration::from_secs(20);
        cfg.ch_probe = Some(PROBE);
    })
    .await;
    relay.freeze();
    let frozen_at = Instant::now();
    assert!(
        testkit::eventually(Duration::from_secs(5), || breaker_open(&w, "clickhouse")).await,
        "the probe opened it"
    );
    let opened_after = frozen_at.elapsed();
    let asked = Instant::now();
    let (status, headers, body) = w.get("/profiles/instagram/byhandle/frozen_analytics").await;
    let refused_in = asked.elapsed();
    assert_eq!(status, 503, "{body}");
    assert!(headers.contains_key("retry-after"));
    assert!(body["detail"].as_str().unwrap().contains("analytics store is unavailable"), "{body}");
    assert!(refused_in < write_deadline, "told without waiting on ClickHouse ({refused_in:?})");

    relay.thaw();
    let thawed_at = Instant::now();
    assert!(testkit::eventually(Duration::from_secs(10), || async { !breaker_open(&w, "clickhouse").await }).await);
    let closed_after = thawed_at.elapsed();
    let (status, _, body) = w.get("/profiles/instagram/byhandle/thawed_analytics").await;
    assert_eq!(status, 200, "{body}");
    eprintln!("breaker opened {opened_after:?} after the freeze; refresh told in {refused_in:?}; closed {closed_after:?} after the thaw");
}

/// beat's own Redis (the sources' limits and the full refresh's stacked limit) frozen: no
/// source can be asked, and beat says the outage is its own, not the providers': a basic and a
/// full refresh are 503 + `Retry-After` saying the refresh limits cannot be checked (a basic
/// refresh was a 502 blaming every source, none of which had been asked), and a queued task
/// waits for the store without spending an attempt or benching a credential.
#[tokio::test]
async fn with_its_limit_store_frozen_beat_names_its_own_outage_not_the_providers() {
    let redis_port = testkit::stack().redis_single_port.expect("the test stack runs a single Redis node");
    let relay = testkit::relay::Relay::to(redis_port).await;
    let w = world_with(|cfg| {
        cfg.redis_url = format!("redis://127.0.0.1:{}", relay.port).into();
        cfg.workers = Some(crate::support::workers(Duration::from_millis(200)));
    })
    .await;
    assert_eq!(w.get("/profiles/instagram/byhandle/before_the_freeze").await.0, 200);

    relay.freeze();
    for path in [
        "/profiles/instagram/byhandle/during_the_freeze",
        "/profiles/instagram/byhandle/during_it_too?full_refresh=true",
    ] {
        let (status, headers, body) = w.get(path).await;
        assert_eq!(status, 503, "{path}: {body}");
        assert_eq!(headers["retry-after"], "2", "{path}");
        let detail = body["detail"].as_str().unwrap();
        assert!(
            detail.contains("refresh limits cannot be checked") && !detail.contains("every source failed"),
            "{path}: {detail}"
        );
    }
    let (status, body) = enqueue(&w, "queued_during_the_freeze").await;
    assert_eq!(status, 201, "{body}");
    let id = body["task"]["id"].as_i64().unwrap();
    let task = || async {
        sqlx::query_as::<_, (String, i32, Option<String>)>(
            "SELECT status, attempts, last_error FROM scrape_task WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&w.pg.pool)
        .await
        .unwrap()
    };
    let deferred = testkit::eventually(Duration::from_secs(20), || async {
        let (status, _, error) = task().await;
        status == "PENDING" && error.is_some_and(|e| e.contains("refresh limits cannot be checked"))
    })
    .await;
    let (status, attempts, error) = task().await;
    assert!(deferred, "{status} {attempts} {error:?}");
    assert_eq!(attempts, 0, "waiting for beat's own store spends no attempt");
    let benched: i64 =
        sqlx::query_scalar("SELECT count(*) FROM credential WHERE disabled_till > now() OR failure_count > 0")
            .fetch_one(&w.pg.pool)
            .await
            .unwrap();
    assert_eq!(benched, 0, "no credential is blamed for beat's outage");

    relay.thaw();
    assert!(
        testkit::eventually(Duration::from_secs(15), || async {
            w.get("/profiles/instagram/byhandle/after_the_freeze").await.0 == 200
        })
        .await
    );
}
