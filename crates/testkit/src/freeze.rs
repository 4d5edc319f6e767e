//! Postgres frozen under one service, for fault tests: the server processes (backends) serving
//! a service's connections to a test's database are stopped with SIGSTOP, which is how a
//! stalled server looks from that service, while every other test's database on the same
//! server goes on. They resume (SIGCONT) when the guard is dropped, also when the test fails.

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::TestPg;

/// Backends stopped until this is dropped.
#[derive(Debug)]
pub struct Frozen(Vec<i32>);

impl Frozen {
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

/// Stops every backend serving a service's connections to `pg`'s database (the services name
/// themselves `bulbul`), leaving the test's own connection alone.
pub async fn freeze_service_backends(pg: &TestPg) -> Frozen {
    let sql = "SELECT pid FROM pg_stat_activity \
               WHERE datname = $1 AND application_name = 'bulbul' AND pid <> pg_backend_pid()";
    let pids: Vec<i32> = sqlx::query_scalar(sql).bind(&pg.database).fetch_all(&pg.pool).await.expect("list backends");
    for pid in &pids {
        kill(Pid::from_raw(*pid), Signal::SIGSTOP).expect("stop a backend");
    }
    Frozen(pids)
}
