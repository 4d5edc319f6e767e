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

const SERVICE_BACKENDS: &str = "SELECT pid FROM pg_stat_activity \
                                WHERE datname = $1 AND application_name = 'bulbul' AND pid <> pg_backend_pid()";

/// How many backends serve a service's connections to `pg`'s database now.
pub async fn service_backends(pg: &TestPg) -> usize {
    sqlx::query_scalar::<_, i32>(SERVICE_BACKENDS)
        .bind(&pg.database)
        .fetch_all(&pg.pool)
        .await
        .expect("list backends")
        .len()
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

/// Stops every backend serving a service's connections to `pg`'s database (the services name
/// themselves `bulbul`), leaving the test's own connection alone.
pub async fn freeze_service_backends(pg: &TestPg) -> Frozen {
    let pids: Vec<i32> =
        sqlx::query_scalar(SERVICE_BACKENDS).bind(&pg.database).fetch_all(&pg.pool).await.expect("list backends");
    Frozen::stop(pids)
}
