//! Postgres failing under coffee, on the real server: the backends serving this coffee's pool
//! are frozen with SIGSTOP (how a stalled server looks from coffee's side, while the other
//! tests' databases on the same server go on) and resumed with SIGCONT. Coffee answers at its
//! deadline instead of hanging, acknowledges nothing it did not write, and serves again once
//! Postgres does, without a restart.

use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::json;

use crate::support::*;

/// The server processes serving this coffee's connections (coffee names itself `bulbul`).
async fn coffee_backends(app: &App) -> Vec<i32> {
    sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = 'bulbul' AND pid <> pg_backend_pid()")
        .bind(&app.pg.database)
        .fetch_all(&app.pg.pool)
        .await
        .unwrap()
}

fn signal(pids: &[i32], signal: Signal) {
    for pid in pids {
        kill(Pid::from_raw(*pid), signal).unwrap();
    }
}

async fn names(app: &App) -> (u16, Vec<String>) {
    let (status, body) = app.get(SAAS, "/coffee/collections").await;
    let names = body["items"]
        .as_array()
        .map(|items| items.iter().filter_map(|c| c["name"].as_str().map(str::to_owned)).collect());
    (status, names.unwrap_or_default())
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
    let backends = coffee_backends(&app).await;
    assert_eq!(backends.len(), 1, "coffee's pool holds one connection: {backends:?}");

    signal(&backends, Signal::SIGSTOP);
    let started = Instant::now();
    let (read, _) = names(&app).await;
    let (write, body) = app.post(SAAS, "/coffee/collections", json!({"name": "during the freeze"})).await;
    let waited = started.elapsed();
    signal(&backends, Signal::SIGCONT);
    eprintln!("while frozen: read {read}, write {write} ({body}), both within {waited:?}");
    // an answer, not a hang and not a 500: the deadline's, for each request
    assert!(matches!(read, 503 | 504) && matches!(write, 503 | 504), "read {read}, write {write}: {body}");
    assert!(waited < deadline * 2 + Duration::from_secs(3), "two requests took {waited:?}");

    // served again without a restart: the acknowledged write is there, the refused one is not
    let mut served = (0, Vec::new());
    for _ in 0..100 {
        served = names(&app).await;
        if served.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (status, names) = served;
    assert_eq!(status, 200, "coffee did not recover once Postgres resumed");
    assert!(names.contains(&"before the freeze".to_owned()), "{names:?}");
    assert!(!names.contains(&"during the freeze".to_owned()), "an unacknowledged write was kept: {names:?}");
    app.stop().await;
}
