//! Which level rejects, what it says, and that a rejection charges nothing.

use std::time::Duration;

use futures::future::join_all;
use ratelimit::{Decision, Error};

use crate::on_both_topologies;
use crate::support::{limiter, policy, redis_time_ms, Topology};

fn rejected(d: &Decision) -> &ratelimit::Rejected {
    match d {
        Decision::Rejected(r) => r,
        Decision::Admitted(a) => panic!("expected a rejection, got {a:?}"),
    }
}

fn remaining(d: &Decision, level: &str) -> u64 {
    d.level(level).unwrap_or_else(|| panic!("no level {level} in {d:?}")).remaining
}

async fn each_level_rejects_on_its_own<C: Topology>() {
    let limiter = limiter::<C>().await;
    let p = policy("levels", "daily=3/1day;calendar,minute=2/1m,handle=1/1s");
    let check = |handle: &'static str| {
        let stack = limiter.stack(&p).key("handle", handle);
        async move { stack.check(1).await.unwrap() }
    };

    let first = check("a").await;
    assert!(first.is_admitted(), "{first:?}");
    assert_eq!([remaining(&first, "daily"), remaining(&first, "minute"), remaining(&first, "handle")], [2, 1, 0]);

    // the same handle again within a second: the per-handle level, and only it, says no
    let again = check("a").await;
    let r = rejected(&again);
    assert_eq!(r.level, "handle");
    assert!(r.retry_after > Duration::ZERO && r.retry_after <= Duration::from_secs(1), "{r:?}");
    assert_eq!(remaining(&again, "minute"), 1, "the rejection charged the minute level");
    assert_eq!(remaining(&again, "daily"), 2, "the rejection charged the daily level");

    assert!(check("b").await.is_admitted());
    // two per minute spent: the next handle is stopped by the minute level, which frees one
    // unit every 30 s
    let third = check("c").await;
    let r = rejected(&third);
    assert_eq!(r.level, "minute");
    assert!(r.retry_after > Duration::from_secs(29) && r.retry_after <= Duration::from_secs(30), "{r:?}");
    assert_eq!(remaining(&third, "daily"), 1);
    assert_eq!(remaining(&third, "handle"), 1, "handle c was not charged");

    // a roomy minute level: the calendar day binds, until the next UTC midnight
    let p = policy("daily", "daily=1/1day;calendar,minute=100/1m,handle=1/1s");
    let mut conn = C::connect().await;
    assert!(limiter.stack(&p).key("handle", "x").check(1).await.unwrap().is_admitted());
    let before = redis_time_ms(&mut conn).await;
    let d = limiter.stack(&p).key("handle", "y").check(1).await.unwrap();
    let after = redis_time_ms(&mut conn).await;
    let r = rejected(&d);
    assert_eq!(r.level, "daily");
    let retry = r.retry_after.as_millis() as u64;
    let midnight = (before / 86_400_000 + 1) * 86_400_000;
    assert!(before + retry <= midnight && midnight <= after + retry, "{r:?} at {before}..{after}");
}
on_both_topologies!(each_level_rejects_on_its_own);

/// 100 calls for one handle inside one second: one admitted, and the global levels were
/// charged exactly once (nested limiters would have charged them 100 times).
async fn no_budget_leak_under_a_per_handle_flood<C: Topology>() {
    let limiter = limiter::<C>().await;
    let p = policy("flood", "daily=20000/1day;calendar,minute=60/1m,handle=1/1s");
    let calls = (0..100).map(|_| {
        let stack = limiter.stack(&p).key("handle", "nasa");
        async move { stack.check(1).await.unwrap() }
    });
    let decisions = join_all(calls).await;
    let admitted = decisions.iter().filter(|d| d.is_admitted()).count();
    assert_eq!(admitted, 1);
    assert!(decisions.iter().filter(|d| !d.is_admitted()).all(|d| rejected(d).level == "handle"));

    let state = limiter.stack(&p).key("handle", "someone-else").peek().await.unwrap();
    assert_eq!(remaining(&state, "daily"), 19_999);
    assert_eq!(remaining(&state, "minute"), 59);
}
on_both_topologies!(no_budget_leak_under_a_per_handle_flood);

async fn a_peek_charges_nothing_and_costs_add_up<C: Topology>() {
    let limiter = limiter::<C>().await;
    let p = policy("costs", "hour=10/1h;calendar,burst=5/1m");
    for _ in 0..3 {
        limiter.stack(&p).peek().await.unwrap();
    }
    let d = limiter.stack(&p).check(3).await.unwrap();
    assert_eq!([remaining(&d, "hour"), remaining(&d, "burst")], [7, 2]);
    let d = limiter.stack(&p).check(3).await.unwrap();
    assert_eq!(rejected(&d).level, "burst");
    assert!(limiter.stack(&p).check(2).await.unwrap().is_admitted(), "a smaller cost still fits");
    let err = limiter.stack(&p).check(6).await.unwrap_err();
    assert!(matches!(err, Error::CostTooHigh { ref level, .. } if level == "burst"), "{err}");
    let err = limiter.stack(&p).key("nope", "x").check(1).await.unwrap_err();
    assert!(matches!(err, Error::UnknownLevel { .. }), "{err}");
}
on_both_topologies!(a_peek_charges_nothing_and_costs_add_up);

/// A rejection remembered in process answers without a round trip, says so, and lapses when
/// Redis would admit again.
async fn the_local_cache_only_repeats_what_redis_said<C: Topology>() {
    let limiter = limiter::<C>().await;
    let p = policy("local", "tiny=1/300ms;burst=1");
    assert!(limiter.stack(&p).check(1).await.unwrap().is_admitted());
    let from_redis = limiter.stack(&p).check(1).await.unwrap();
    assert!(!rejected(&from_redis).local);
    let from_cache = limiter.stack(&p).check(1).await.unwrap();
    let r = rejected(&from_cache);
    assert!(r.local && r.retry_after <= rejected(&from_redis).retry_after, "{r:?}");
    tokio::time::sleep(rejected(&from_redis).retry_after + Duration::from_millis(20)).await;
    assert!(limiter.stack(&p).check(1).await.unwrap().is_admitted());
}
on_both_topologies!(the_local_cache_only_repeats_what_redis_said);

/// Keys of one check share a hash tag, so a cluster keeps them in one slot.
#[test]
fn keys_of_one_check_share_a_slot() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let limiter = limiter::<redis::aio::ConnectionManager>().await;
        let p = policy("slots", "a=1/1s,b=1/1m,c=1/1h");
        let keys = limiter.stack(&p).shard("partner-7").key("c", "client-{9}").redis_keys();
        let tag = |k: &str| k[k.find('{').unwrap()..=k.find('}').unwrap()].to_owned();
        assert!(keys.iter().all(|k| tag(k) == "{slots:partner-7}"), "{keys:?}");
    });
}
