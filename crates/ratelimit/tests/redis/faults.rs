//! Redis going away: the script cache flushed, the server stopped, the server frozen. A
//! fail-closed stack refuses with a clear error, a fail-open one admits (marked degraded), and
//! neither waits past its timeout. The stopped and frozen servers are real ones the test
//! started, not the shared test stack.

use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use ratelimit::{Decision, Error, FailureMode, Limiter, StoreFailure};
use redis::aio::ConnectionManager;

use crate::on_both_topologies;
use crate::support::{limiter, policy, Topology};

async fn survives_a_script_flush<C: Topology>() {
    let limiter = limiter::<C>().await;
    let p = policy("flush", "minute=5/1m");
    assert!(limiter.stack(&p).check(1).await.unwrap().is_admitted());
    for node in C::nodes() {
        let mut conn =
            redis::Client::open(format!("redis://{node}")).unwrap().get_multiplexed_async_connection().await.unwrap();
        let _: () = redis::cmd("SCRIPT").arg("FLUSH").query_async(&mut conn).await.unwrap();
    }
    let d = limiter.stack(&p).check(1).await.unwrap();
    assert_eq!(d.level("minute").unwrap().remaining, 3, "the state survived and the script was loaded again");
}
on_both_topologies!(survives_a_script_flush);

/// A redis-server of the test's own on a free port, stopped when dropped.
struct OwnRedis {
    child: tokio::process::Child,
    port: u16,
}

impl OwnRedis {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = tokio::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server is installed by the stack");
        let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).unwrap();
        for _ in 0..100 {
            if client.get_multiplexed_async_connection().await.is_ok() {
                return Self { child, port };
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("redis-server on {port} did not start");
    }

    async fn connection(&self) -> ConnectionManager {
        let client = redis::Client::open(format!("redis://127.0.0.1:{}", self.port)).unwrap();
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(200)))
            .set_number_of_retries(1);
        client.get_connection_manager_with_config(config).await.unwrap()
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id().unwrap() as i32)
    }
}

async fn decide_both_ways(
    conn: ConnectionManager,
    timeout: Duration,
) -> (Result<Decision, Error>, Result<Decision, Error>) {
    let limiter = Limiter::new(conn, "faults:").unwrap();
    let closed = policy("closed", "minute=5/1m").with_timeout(timeout).unwrap();
    let open = policy("open", "minute=5/1m").with_timeout(timeout).unwrap().on_failure(FailureMode::Open);
    for p in [&closed, &open] {
        let started = Instant::now();
        let _ = limiter.stack(p).check(1).await;
        // not a speed target: "does not hang" is a wait bounded by the timeout plus scheduling
        assert!(started.elapsed() < timeout + Duration::from_secs(2), "{} waited {:?}", p.name(), started.elapsed());
    }
    (limiter.stack(&closed).check(1).await, limiter.stack(&open).check(1).await)
}

fn assert_fails_by_policy(closed: Result<Decision, Error>, open: Result<Decision, Error>, timeout_expected: bool) {
    match closed {
        Err(Error::Unavailable { ref stack, ref cause }) => {
            assert_eq!(stack, "closed");
            assert_eq!(matches!(cause, StoreFailure::Timeout(_)), timeout_expected, "{cause}");
        }
        other => panic!("fail-closed stack: {other:?}"),
    }
    match open {
        Ok(Decision::Admitted(a)) => assert!(a.degraded && a.levels.is_empty(), "{a:?}"),
        other => panic!("fail-open stack: {other:?}"),
    }
}

#[tokio::test]
async fn a_stopped_redis_fails_each_stack_its_own_way() {
    let mut redis = OwnRedis::start().await;
    let conn = redis.connection().await;
    let (closed, open) = decide_both_ways(conn.clone(), Duration::from_millis(300)).await;
    assert!(closed.unwrap().is_admitted() && open.unwrap().is_admitted(), "both work while Redis runs");

    redis.child.kill().await.unwrap();
    let (closed, open) = decide_both_ways(conn, Duration::from_millis(300)).await;
    assert_fails_by_policy(closed, open, false);
}

#[tokio::test]
async fn a_frozen_redis_is_bounded_by_the_timeout() {
    let redis = OwnRedis::start().await;
    let conn = redis.connection().await;
    kill(redis.pid(), Signal::SIGSTOP).unwrap();
    let outcome = decide_both_ways(conn, Duration::from_millis(200)).await;
    kill(redis.pid(), Signal::SIGCONT).unwrap();
    assert_fails_by_policy(outcome.0, outcome.1, true);
}

/// A frozen Redis, checked repeatedly: the first checks each wait out their timeout, and once
/// the breaker has seen enough of them in a row every stack takes its failure mode at once,
/// without asking Redis. After the cooldown a trial finds Redis back and closes it.
#[tokio::test]
async fn a_frozen_redis_opens_the_breaker_and_checks_stop_waiting_then_recover() {
    let redis = OwnRedis::start().await;
    let timeout = Duration::from_millis(300);
    let cooldown = Duration::from_secs(1);
    let limiter = Limiter::new(redis.connection().await, "faults:")
        .unwrap()
        .with_breaker(breaker::Settings { failures: 2, cooldown });
    let closed = policy("closed", "minute=5/1m").with_timeout(timeout).unwrap();
    let open = policy("open", "minute=5/1m").with_timeout(timeout).unwrap().on_failure(FailureMode::Open);
    assert!(limiter.stack(&closed).check(1).await.unwrap().is_admitted());

    kill(redis.pid(), Signal::SIGSTOP).unwrap();
    for _ in 0..2 {
        let started = Instant::now();
        let cause = match limiter.stack(&closed).check(1).await {
            Err(Error::Unavailable { cause, .. }) => cause,
            other => panic!("fail-closed stack: {other:?}"),
        };
        assert!(matches!(cause, StoreFailure::Timeout(_)), "{cause}");
        assert!(started.elapsed() >= timeout, "Redis was asked and waited for");
    }
    assert!(limiter.breaker().is_open());
    let started = Instant::now();
    let refused = limiter.stack(&closed).check(1).await;
    let admitted = limiter.stack(&open).check(1).await;
    let waited = started.elapsed();
    kill(redis.pid(), Signal::SIGCONT).unwrap();
    match refused {
        Err(Error::Unavailable { cause: StoreFailure::CircuitOpen(_), .. }) => {}
        other => panic!("fail-closed stack with the breaker open: {other:?}"),
    }
    assert!(matches!(admitted, Ok(Decision::Admitted(ref a)) if a.degraded), "{admitted:?}");
    assert!(waited < timeout, "two checks took {waited:?}: the open breaker did not ask Redis");

    tokio::time::sleep(cooldown).await;
    let d = limiter.stack(&closed).check(1).await.expect("the trial reaches Redis");
    // decided by Redis again; the two checks that timed out were charged once Redis resumed
    // (they had been sent), so a timeout is never a free pass
    assert_eq!(d.level("minute").unwrap().remaining, 1, "{d:?}");
    assert!(!limiter.breaker().is_open());
}
