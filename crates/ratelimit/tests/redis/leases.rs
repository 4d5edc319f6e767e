//! Leases: a stack that allows them takes units in bulk and spends them in process. One process
//! still admits exactly the limit, in far fewer round trips; several processes together never
//! admit more than the limit; and tight limits are not leased at all.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use futures::future::join_all;
use ratelimit::Limiter;
use redis::aio::ConnectionLike;
use redis::{Cmd, Pipeline, RedisFuture, Value};

use crate::on_both_topologies;
use crate::support::{policy, Topology};

/// A connection that counts the commands sent through it.
#[derive(Clone)]
struct Counting<C> {
    inner: C,
    sent: Arc<AtomicUsize>,
}

impl<C: ConnectionLike + Send> ConnectionLike for Counting<C> {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        self.sent.fetch_add(1, Ordering::SeqCst);
        self.inner.req_packed_command(cmd)
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        self.sent.fetch_add(1, Ordering::SeqCst);
        self.inner.req_packed_commands(pipeline, offset, count)
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}

async fn one_process_admits_exactly_the_limit_in_few_round_trips<C: Topology>() {
    let sent = Arc::new(AtomicUsize::new(0));
    let conn = Counting { inner: C::connect().await, sent: sent.clone() };
    let limiter = Limiter::new(conn, &testkit::redis_prefix()).unwrap();
    let p = policy("leased", "hourly=600/1h").with_lease(20).unwrap();
    assert_eq!(p.lease_units(), 20);
    let attempts = (0..1000).map(|_| {
        let (limiter, p) = (limiter.clone(), p.clone());
        tokio::spawn(async move { limiter.stack(&p).key("hourly", "k").check(1).await.unwrap().is_admitted() })
    });
    let admitted = join_all(attempts).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(admitted, 600);
    let round_trips = sent.load(Ordering::SeqCst);
    // 30 leases, the exact fallbacks for the last units, and the rejections
    assert!(round_trips < 200, "{round_trips} round trips for 1000 checks");
}
on_both_topologies!(one_process_admits_exactly_the_limit_in_few_round_trips);

async fn many_processes_never_admit_more_than_the_limit<C: Topology>() {
    let prefix = testkit::redis_prefix();
    let p = policy("leased_many", "hourly=600/1h").with_lease(20).unwrap();
    let mut limiters = Vec::new();
    for _ in 0..8 {
        // separate limiters hold separate leases, as separate processes do
        limiters.push(Limiter::new(C::connect().await, &prefix).unwrap());
    }
    let attempts = (0..2000).map(|i| {
        let (limiter, p) = (limiters[i % limiters.len()].clone(), p.clone());
        tokio::spawn(async move { limiter.stack(&p).check(1).await.unwrap().is_admitted() })
    });
    let admitted = join_all(attempts).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert!(admitted <= 600, "{admitted} admitted");
    // at most one lease per process can be left unspent
    assert!(admitted >= 600 - 8 * 20, "{admitted} admitted");
}
on_both_topologies!(many_processes_never_admit_more_than_the_limit);

async fn tight_limits_are_not_leased<C: Topology>() {
    let sent = Arc::new(AtomicUsize::new(0));
    let conn = Counting { inner: C::connect().await, sent: sent.clone() };
    let limiter = Limiter::new(conn, &testkit::redis_prefix()).unwrap();
    let p = policy("tight", "minute=5/1m").with_lease(20).unwrap();
    assert_eq!(p.lease_units(), 1, "a tenth of 5 is less than one unit");
    let mut admitted = 0;
    for _ in 0..8 {
        admitted += usize::from(limiter.stack(&p).check(1).await.unwrap().is_admitted());
    }
    assert_eq!(admitted, 5);
    assert!(sent.load(Ordering::SeqCst) >= 5, "every check asked Redis (or the over-limit cache)");
    assert!(policy("x", "a=1/1s").with_lease(0).is_err());
}
on_both_topologies!(tight_limits_are_not_leased);
