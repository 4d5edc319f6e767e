//! Postgres failing under one service, for fault tests, on the real server and without touching
//! any other test's database on it:
//! - frozen: the server processes (backends) serving a service's connections to a test's
//!   database are stopped with SIGSTOP, which is how a stalled server looks from that service.
//!   They resume (SIGCONT) when the guard is dropped, also when the test fails;
//! - restarted, as the service sees a restart: the server terminates those backends
//!   (`pg_terminate_backend`), so every connection the service holds is dead and the next
//!   ones it opens are new.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::TestPg;

/// Processes stopped until this is dropped (Postgres backends, Redis nodes).
#[derive(Debug)]
pub struct Frozen(Vec<i32>);

impl Frozen {
    /// Stops `pids` with SIGSTOP until the guard is dropped.
    pub(crate) fn stop(pids: Vec<i32>) -> Self {
        for pid in &pids {
            kill(Pid::from_raw(*pid), Signal::SIGSTOP).expect("stop a process");
        }
        Self(pids)
    }

    /// How many backends are stopped.
    pub fn backends(&self) -> usize {
        self.0.len()
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        for pid in &self.0 {
            let _ = kill(Pid::from_raw(*pid), Signal::SIGCONT);
        }
    }
}

/// The backends of a service's connections: named `bulbul`, or `bulbul-<job>` for a pool with
/// a job of its own.
const SERVICE_BACKENDS: &str = "SELECT pid FROM pg_stat_activity \
                                WHERE datname = $1 AND application_name LIKE 'bulbul%' AND pid <> pg_backend_pid()";

/// How many backends serve a service's connections to `pg`'s database now.
pub async fn service_backends(pg: &TestPg) -> usize {
    sqlx::query_scalar::<_, i32>(SERVICE_BACKENDS)
        .bind(&pg.database)
        .fetch_all(&pg.pool)
        .await
        .expect("list backends")
        .len()
}

/// [`service_backends`] once they are gone, or after 5 s: a service that stopped has closed its
/// connections, but a closed connection's backend takes a moment to leave `pg_stat_activity`.
pub async fn service_backends_after_stop(pg: &TestPg) -> usize {
    let mut left = service_backends(pg).await;
    for _ in 0..50 {
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        left = service_backends(pg).await;
    }
    left
}

/// Terminates every backend serving a service's connections to `pg`'s database, as a server
/// restart does; returns how many there were.
pub async fn terminate_service_backends(pg: &TestPg) -> usize {
    let pids: Vec<i32> =
        sqlx::query_scalar(SERVICE_BACKENDS).bind(&pg.database).fetch_all(&pg.pool).await.expect("list backends");
    for pid in &pids {
        let _: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(pid)
            .fetch_one(&pg.pool)
            .await
            .expect("terminate");
    }
    pids.len()
}

/// Stops the backends of the connections named `application_name` (one pool of a service, e.g.
/// coffee's `bulbul-usage-log`) to `pg`'s database.
pub async fn freeze_named(pg: &TestPg, application_name: &str) -> Frozen {
    let pids: Vec<i32> = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND application_name = $2 AND pid <> pg_backend_pid()",
    )
    .bind(&pg.database)
    .bind(application_name)
    .fetch_all(&pg.pool)
    .await
    .expect("list backends");
    Frozen::stop(pids)
}

/// Stops every backend serving a service's connections to `pg`'s database (the services name
/// themselves `bulbul`), leaving the test's own connection alone.
pub async fn freeze_service_backends(pg: &TestPg) -> Frozen {
    let pids: Vec<i32> =
        sqlx::query_scalar(SERVICE_BACKENDS).bind(&pg.database).fetch_all(&pg.pool).await.expect("list backends");
    Frozen::stop(pids)
}

/// One HTTP answer as a fault test judges it.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub retry_after: bool,
    pub body: serde_json::Value,
    pub took: std::time::Duration,
}

/// Sends `request` and times its answer.
pub async fn answer(request: reqwest::RequestBuilder) -> Answer {
    let started = std::time::Instant::now();
    let resp = request.send().await.expect("the service answers");
    let (status, retry_after) = (resp.status().as_u16(), resp.headers().contains_key("retry-after"));
    let body = resp.json().await.unwrap_or_default();
    Answer { status, retry_after, body, took: started.elapsed() }
}

/// Judges the answers a service gave while a store was frozen and its breaker opened after
/// `slow` of them: every one a 503 with `Retry-After` whose detail contains `detail`, the first
/// `slow` at or past the store's `deadline` (the store was asked and waited for), the rest before
/// it (the open breaker answered without asking).
pub fn assert_deadline_then_breaker(answers: &[Answer], slow: usize, deadline: std::time::Duration, detail: &str) {
    eprintln!("answers while frozen: {answers:#?}");
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a.status, 503, "answer {i}: {}", a.body);
        assert!(a.retry_after, "answer {i}: a 503 says when to retry: {}", a.body);
        assert!(a.body["detail"].as_str().unwrap_or_default().contains(detail), "answer {i}: {}", a.body);
        if i < slow {
            assert!(a.took >= deadline, "answer {i} came in {:?}, before the store's deadline", a.took);
        } else {
            assert!(a.took < deadline, "answer {i} took {:?}: the open breaker did not answer at once", a.took);
        }
    }
}
