//! Window edges, on Redis's own clock: GCRA has no double burst where a fixed window would
//! reset, and a calendar window does reset exactly at its UTC-aligned boundary.

use std::time::{Duration, Instant};

use futures::future::join_all;
use ratelimit::{Decision, Limiter, StackPolicy};

use crate::on_both_topologies;
use crate::support::{limiter, policy, redis_time_ms, Topology};

async fn burst<C: Topology>(limiter: &Limiter<C>, p: &StackPolicy, n: usize) -> Vec<Decision> {
    join_all((0..n).map(|_| {
        let stack = limiter.stack(p);
        async move { stack.check(1).await.unwrap() }
    }))
    .await
}

fn admitted(ds: &[Decision]) -> u64 {
    ds.iter().filter(|d| d.is_admitted()).count() as u64
}

/// Sleeps until `offset_ms` past the next multiple of `period_ms` on Redis's clock.
async fn sleep_until_edge<C: Topology>(conn: &mut C, period_ms: u64, offset_ms: i64) {
    let now = redis_time_ms(conn).await;
    let mut target = ((now / period_ms + 1) * period_ms) as i64 + offset_ms;
    if target <= now as i64 {
        target += period_ms as i64;
    }
    tokio::time::sleep(Duration::from_millis((target - now as i64) as u64)).await;
}

/// 10 per 2 s: a full burst just before a 2 s edge and another just after it. A fixed window
/// would admit 20; GCRA admits the burst plus only what refilled in between.
async fn gcra_has_no_boundary_burst<C: Topology>() {
    let limiter = limiter::<C>().await;
    let p = policy("edge", "rate=10/2s").local_cache(false);
    let mut conn = C::connect().await;
    sleep_until_edge(&mut conn, 2000, -150).await;
    let started = Instant::now();
    let before = admitted(&burst(&limiter, &p, 30).await);
    sleep_until_edge(&mut conn, 2000, 50).await;
    let after = admitted(&burst(&limiter, &p, 30).await);
    let elapsed = started.elapsed();
    assert_eq!(before, 10);
    // one unit refills every 200 ms: whatever the scheduler did, no more than that came back
    let refilled = (elapsed.as_millis() / 200) as u64 + 1;
    assert!(after <= refilled, "{after} admitted after the edge, {elapsed:?} after the first burst");
}
on_both_topologies!(gcra_has_no_boundary_burst);

/// 10 per 2 s calendar window: exhausted, its retry-after points at the UTC-aligned edge, and
/// just past the edge the full quota is back.
async fn calendar_window_resets_at_the_utc_boundary<C: Topology>() {
    let limiter = limiter::<C>().await;
    let p = policy("calendar", "window=10/2s;calendar").local_cache(false);
    let mut conn = C::connect().await;
    sleep_until_edge(&mut conn, 2000, -1000).await;
    let t0 = redis_time_ms(&mut conn).await;
    let first = burst(&limiter, &p, 15).await;
    let t1 = redis_time_ms(&mut conn).await;
    assert_eq!(admitted(&first), 10);
    let retry = first
        .iter()
        .find_map(|d| match d {
            Decision::Rejected(r) => Some(r.retry_after.as_millis() as u64),
            Decision::Admitted(_) => None,
        })
        .unwrap();
    let edge = (t0 / 2000 + 1) * 2000;
    assert!(t0 + retry <= edge && edge <= t1 + retry, "retry {retry} ms at {t0}..{t1}, edge {edge}");

    tokio::time::sleep(Duration::from_millis(edge.saturating_sub(redis_time_ms(&mut conn).await) + 30)).await;
    let second = burst(&limiter, &p, 15).await;
    assert_eq!(admitted(&second), 10, "the new window holds the full quota");
}
on_both_topologies!(calendar_window_resets_at_the_utc_boundary);
