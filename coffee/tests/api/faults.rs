//! Postgres failing under coffee, on the real server: the backends serving this coffee's pool
//! are frozen with SIGSTOP (`testkit::freeze`: a stalled server as coffee sees it, while the
//! other tests' databases go on) and resumed with SIGCONT. Coffee answers at its deadline
//! instead of hanging, acknowledges nothing it did not write, and serves again once Postgres
//! does, without a restart.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

async fn names(app: &App) -> (u16, Vec<String>) {
    let (status, body) = app.get(SAAS, "/coffee/collections").await;
    let items = body["items"].as_array().cloned().unwrap_or_default();
    (status, items.iter().filter_map(|c| c["name"].as_str().map(str::to_owned)).collect())
}

#[tokio::test]
async fn a_frozen_postgres_is_answered_at_the_deadline_and_served_again_without_a_restart() {
    let deadline = Duration::from_secs(2);
    let app = app_with(|cfg| {
        // one connection, so the frozen backend is the only way to Postgres
        (cfg.pg.max_open_conns, cfg.pg.max_idle_conns) = (1, 1);
        cfg.server.request_timeout = deadline;
        cfg.ch_query_timeout = deadline / 2;
    })
    .await;
    let (status, body) = app.post(SAAS, "/coffee/collections", json!({"name": "before the freeze"})).await;
    assert_eq!(status, 201, "{body}");

    let frozen = testkit::freeze::freeze_service_backends(&app.pg).await;
    assert_eq!(frozen.backends(), 1, "coffee's pool holds one connection");
    let started = Instant::now();
    let (read, _) = names(&app).await;
    let (write, body) = app.post(SAAS, "/coffee/collections", json!({"name": "during the freeze"})).await;
    let waited = started.elapsed();
    drop(frozen);
    eprintln!("while frozen: read {read}, write {write} ({body}), both within {waited:?}");
    // an answer, not a hang and not a 500: the deadline's, for each request
    assert!(matches!(read, 503 | 504) && matches!(write, 503 | 504), "read {read}, write {write}: {body}");
    assert!(waited < deadline * 2 + Duration::from_secs(3), "two requests took {waited:?}");

    // served again without a restart: the acknowledged write is there, the refused one is not
    assert!(testkit::eventually(Duration::from_secs(10), || async { names(&app).await.0 == 200 }).await);
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
        cfg.ch_breaker_failures = 2;
        cfg.ch_breaker_cooldown = Duration::from_secs(1);
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
