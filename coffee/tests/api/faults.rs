//! Postgres failing under coffee, on the real server: the backends serving this coffee's pool
//! are frozen with SIGSTOP (`testkit::freeze`: a stalled server as coffee sees it, while the
//! other tests' databases go on) and resumed with SIGCONT. Coffee answers at its deadline
//! instead of hanging, acknowledges nothing it did not write, and serves again once Postgres
//! does, without a restart.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::support::*;

async fn names(app: &App) -> (u16, Vec<String>) {
    let (status, body) = app.get(SAAS, "/coffee/collections").await;
    let items = body["items"].as_array().cloned().unwrap_or_default();
    (status, items.iter().filter_map(|c| c["name"].as_str().map(str::to_owned)).collect())
}

/// A frozen Postgres, as coffee sees it: each call is a 503 naming the database at
/// `PG_QUERY_TIMEOUT_MS` (not the request's `SERVER_TIMEOUT`), and once `PG_BREAKER_FAILURES` of
/// them happened in a row, an immediate 503 without asking Postgres. Nothing unacknowledged is
/// written, and the breaker's trial brings the database back without a restart.
#[tokio::test]
async fn a_frozen_postgres_is_a_503_at_the_query_deadline_then_at_once_and_served_again_without_a_restart() {
    let query_deadline = Duration::from_secs(1);
    let app = app_with(|cfg| {
        // one connection, so the frozen backend is the only way to Postgres
        (cfg.pg.max_open_conns, cfg.pg.max_idle_conns) = (1, 1);
        cfg.server.request_timeout = Duration::from_secs(20);
        cfg.pg_query_timeout = query_deadline;
        cfg.pg_breaker = breaker::Settings { failures: 2, cooldown: Duration::from_secs(2) };
    })
    .await;
    let (status, body) = app.post(SAAS, "/coffee/collections", json!({"name": "before the freeze"})).await;
    assert_eq!(status, 201, "{body}");
    let answer = testkit::freeze::answer;

    let frozen = testkit::freeze::freeze_service_backends(&app.pg).await;
    assert_eq!(frozen.backends(), 1, "coffee's pool holds one connection");
    // a read, then a write: each waits out the query deadline, and the second opens the breaker;
    // then the breaker answers without asking the database
    let answers = [
        answer(app.request(SAAS, Method::GET, "/coffee/collections")).await,
        answer(app.request(SAAS, Method::POST, "/coffee/collections").json(&json!({"name": "during the freeze"})))
            .await,
        answer(app.request(SAAS, Method::GET, "/coffee/collections")).await,
    ];
    drop(frozen);
    testkit::freeze::assert_deadline_then_breaker(&answers, 2, query_deadline, "the database is unavailable");
    assert!(app.state.pg.breaker().is_open());

    // served again without a restart: the acknowledged write is there, the refused one is not
    assert!(testkit::eventually(Duration::from_secs(15), || async { names(&app).await.0 == 200 }).await);
    assert!(!app.state.pg.breaker().is_open(), "the trial closed the breaker");
    let (_, names) = names(&app).await;
    assert!(names.contains(&"before the freeze".to_owned()), "{names:?}");
    assert!(!names.contains(&"during the freeze".to_owned()), "an unacknowledged write was kept: {names:?}");
    app.stop().await;
}

/// A Postgres restart as coffee sees it: the server terminates every connection coffee's pool
/// holds (`testkit::freeze::terminate_service_backends`). The first request to meet a dead
/// connection is a 503 (not a 500); that loss makes the pool ping the others before handing
/// them out, so they are replaced without costing a request each, and every later read and
/// write is served. Every acknowledged write is kept.
#[tokio::test]
async fn a_postgres_restart_costs_at_most_one_503_and_keeps_every_acknowledged_write() {
    let app = app_with(|cfg| (cfg.pg.max_open_conns, cfg.pg.max_idle_conns) = (3, 3)).await;
    let mut acknowledged = Vec::new();
    for i in 0..3 {
        let name = format!("before {i}");
        let (status, body) = app.post(SAAS, "/coffee/collections", json!({ "name": name })).await;
        assert_eq!(status, 201, "{body}");
        acknowledged.push(name);
    }
    assert_eq!(names(&app).await.0, 200);
    // the pool holds all its connections: concurrent reads make it open them
    let full = || async {
        futures::future::join_all((0..12).map(|_| names(&app))).await;
        testkit::freeze::service_backends(&app.pg).await == 3
    };
    assert!(testkit::eventually(Duration::from_secs(10), full).await, "three connections open");

    let terminated = testkit::freeze::terminate_service_backends(&app.pg).await;
    assert!(terminated > 0, "coffee held connections to terminate");
    let mut answers = Vec::new();
    for i in 0..6 {
        answers.push(("read", names(&app).await.0, String::new()));
        let name = format!("after {i}");
        let (status, body) = app.post(SAAS, "/coffee/collections", json!({ "name": name })).await;
        if status == 201 {
            acknowledged.push(name);
        }
        answers.push(("write", status, body.to_string()));
    }
    let failed: Vec<_> = answers.iter().filter(|(_, status, _)| !matches!(status, 200 | 201)).collect();
    eprintln!("after {terminated} connections were terminated, refused: {failed:?}");
    assert!(failed.iter().all(|(_, status, _)| *status == 503), "only 503s: {failed:?}");
    // one lost connection found out, the others replaced unseen
    assert!(answers[1..].iter().all(|a| matches!(a.1, 200 | 201)), "only the first may fail: {answers:?}");

    let (_, names) = names(&app).await;
    for name in &acknowledged {
        assert!(names.contains(name), "acknowledged {name:?} is missing: {names:?}");
    }
    app.stop().await;
}

/// ClickHouse restarted under coffee (`testkit::relay`: the real server behind a relay that is
/// closed and opened again, which is a restart as coffee sees it): while it is away analytics
/// answer 503 with `Retry-After` and, once the breaker opens, without asking it; Postgres routes
/// never notice; once it is back the breaker's trial call finds it and analytics are served
/// again, without restarting coffee.
#[tokio::test]
async fn a_clickhouse_restart_is_a_503_while_away_and_served_again_without_a_restart() {
    let mut relay = testkit::relay::Relay::to(testkit::stack().ch_http_port).await;
    let app = app_with(|cfg| {
        cfg.ch.port = relay.port;
        cfg.ch_query_timeout = Duration::from_secs(1);
        cfg.ch_breaker = breaker::Settings { failures: 2, cooldown: Duration::from_secs(1) };
    })
    .await;
    let leaderboard = "/coffee/leaderboard/instagram?month=2026-10";
    assert_eq!(app.get(SAAS, leaderboard).await.0, 200);

    relay.stop();
    for _ in 0..3 {
        let resp = app.request(SAAS, reqwest::Method::GET, leaderboard).send().await.unwrap();
        assert_eq!(resp.status(), 503);
        assert!(resp.headers().contains_key("retry-after"));
    }
    assert_eq!(app.get(SAAS, "/coffee/profiles/instagram/2").await.0, 200, "Postgres routes never notice");
    let (status, body) = app.post(SAAS, "/coffee/collections", json!({"name": "while analytics restart"})).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app.get(SAAS, "/ready").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("degraded")), "{body}");

    relay.start().await;
    assert!(
        testkit::eventually(Duration::from_secs(10), || async { app.get(SAAS, leaderboard).await.0 == 200 }).await,
        "analytics are served again once ClickHouse is back"
    );
    let (status, body) = app.get(SAAS, "/ready").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")), "{body}");
    app.stop().await;
}

/// The usage log's own connection frozen while the main pool still answers: a profile view of
/// an unlimited plan, which waits until its view is recorded, is a 503 naming the database at
/// `PG_QUERY_TIMEOUT_MS` (before, it waited until `SERVER_TIMEOUT` and answered 504; a failed
/// batch was a 500), and views are recorded again once the connection resumes.
#[tokio::test]
async fn a_frozen_usage_log_connection_is_a_503_at_the_deadline_and_recovers() {
    let query_deadline = Duration::from_secs(1);
    let app = app_with(|cfg| {
        cfg.server.request_timeout = Duration::from_secs(20);
        cfg.pg_query_timeout = query_deadline;
    })
    .await;
    let view = || app.request(SAAS, Method::GET, "/coffee/profiles/instagram/2");
    let before = testkit::freeze::answer(view()).await;
    assert_eq!(before.status, 200, "{}", before.body);
    let views = || app.count("SELECT coalesce(sum(view_count), 0)::int8 FROM partner_profile_page_track");
    let counted = views().await;

    // the log's one connection is open now (its pool keeps it)
    let frozen = testkit::freeze::freeze_named(&app.pg, "bulbul-usage-log").await;
    assert_eq!(frozen.backends(), 1, "the usage log holds one connection");
    let during = testkit::freeze::answer(view()).await;
    drop(frozen);
    testkit::freeze::assert_deadline_then_breaker(&[during], 1, query_deadline, "the database is unavailable");

    assert!(
        testkit::eventually(Duration::from_secs(10), || async {
            app.get(SAAS, "/coffee/profiles/instagram/2").await.0 == 200
        })
        .await
    );
    assert!(views().await > counted, "views are recorded again");
    app.stop().await;
}

/// The probes' settings in these tests: a silent store is found within 0.7 s.
const PROBE: breaker::ProbeSettings =
    breaker::ProbeSettings { every: Duration::from_millis(200), deadline: Duration::from_millis(500) };

/// Postgres frozen under coffee (its backends stopped with SIGSTOP, the probe's among them):
/// the probe opens the database breaker before any request has waited on the database, so the
/// first request during the freeze is already refused at once (503 + `Retry-After`), not after
/// the query deadline; once Postgres answers again the probe closes the breaker and requests
/// are served, with no request spent on a trial.
#[tokio::test]
async fn a_frozen_postgres_is_found_by_the_probe_so_no_request_waits_out_the_deadline() {
    let query_deadline = Duration::from_secs(8);
    let app = app_with(|cfg| {
        cfg.pg_query_timeout = query_deadline;
        cfg.server.request_timeout = Duration::from_secs(20);
        cfg.pg_probe = Some(PROBE);
    })
    .await;
    assert_eq!(names(&app).await.0, 200);
    let probe_connected = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'bulbul-probe'";
    assert!(testkit::eventually(Duration::from_secs(5), || async { app.count(probe_connected).await == 1 }).await);

    let frozen = testkit::freeze::freeze_service_backends(&app.pg).await;
    let frozen_at = std::time::Instant::now();
    assert!(
        testkit::eventually(Duration::from_secs(5), || async { app.state.pg.breaker().is_open() }).await,
        "the probe opened the breaker"
    );
    let opened_after = frozen_at.elapsed();
    let asked = std::time::Instant::now();
    let resp = app.request(SAAS, Method::GET, "/coffee/collections").send().await.unwrap();
    let refused_in = asked.elapsed();
    assert_eq!(resp.status(), 503);
    assert!(resp.headers().contains_key("retry-after"));
    assert!(refused_in < query_deadline, "refused without waiting on the database ({refused_in:?})");

    drop(frozen);
    let thawed_at = std::time::Instant::now();
    assert!(testkit::eventually(Duration::from_secs(10), || async { !app.state.pg.breaker().is_open() }).await);
    let closed_after = thawed_at.elapsed();
    assert_eq!(names(&app).await.0, 200);
    eprintln!("breaker opened {opened_after:?} after the freeze; request refused in {refused_in:?}; closed {closed_after:?} after the thaw");
    app.stop().await;
}

/// ClickHouse frozen under coffee (behind a relay that holds every byte, as a SIGSTOPped server
/// does to its clients): the probe opens the analytics breaker with no analytics request made,
/// the next one is refused at once, and analytics are served again once ClickHouse answers.
#[tokio::test]
async fn a_frozen_clickhouse_is_found_by_the_probe_so_no_request_waits_out_the_deadline() {
    let relay = testkit::relay::Relay::to(testkit::stack().ch_http_port).await;
    let query_deadline = Duration::from_secs(8);
    let app = app_with(|cfg| {
        cfg.ch.port = relay.port;
        cfg.ch_query_timeout = query_deadline;
        cfg.server.request_timeout = Duration::from_secs(20);
        cfg.ch_probe = Some(PROBE);
    })
    .await;
    let leaderboard = "/coffee/leaderboard/instagram?month=2026-10";
    assert_eq!(app.get(SAAS, leaderboard).await.0, 200);

    relay.freeze();
    let frozen_at = std::time::Instant::now();
    assert!(
        testkit::eventually(Duration::from_secs(5), || async { app.state.ch.breaker().is_open() }).await,
        "the probe opened the breaker"
    );
    let opened_after = frozen_at.elapsed();
    let asked = std::time::Instant::now();
    let resp = app.request(SAAS, Method::GET, leaderboard).send().await.unwrap();
    let refused_in = asked.elapsed();
    assert_eq!(resp.status(), 503);
    assert!(resp.headers().contains_key("retry-after"));
    assert!(refused_in < query_deadline, "refused without waiting on ClickHouse ({refused_in:?})");
    assert_eq!(app.get(SAAS, "/coffee/profiles/instagram/2").await.0, 200, "Postgres routes never notice");

    relay.thaw();
    let thawed_at = std::time::Instant::now();
    assert!(testkit::eventually(Duration::from_secs(10), || async { !app.state.ch.breaker().is_open() }).await);
    let closed_after = thawed_at.elapsed();
    assert_eq!(app.get(SAAS, leaderboard).await.0, 200);
    eprintln!("breaker opened {opened_after:?} after the freeze; request refused in {refused_in:?}; closed {closed_after:?} after the thaw");
    app.stop().await;
}
