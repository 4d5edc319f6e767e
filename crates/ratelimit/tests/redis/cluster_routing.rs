//! `SlotRouted` when the cluster changes under it: a slot moved to another master (a real
//! resharding of a private 3-node cluster) answers the direct path with `MOVED`; the decision
//! is resent through redis-rs's routing, still decided once, and the new owner is learned.

use std::time::Duration;

use ratelimit::{Limiter, SlotRouted};
use redis::aio::MultiplexedConnection;

use crate::support::policy;

async fn node(addr: &str) -> MultiplexedConnection {
    redis::Client::open(format!("redis://{addr}")).unwrap().get_multiplexed_async_connection().await.unwrap()
}

/// (id, host:port) of the master serving `slot`, and of another master.
async fn owner_and_other(addr: &str, slot: u16) -> ((String, String), (String, String)) {
    let nodes: String = redis::cmd("CLUSTER").arg("NODES").query_async(&mut node(addr).await).await.unwrap();
    let masters: Vec<(String, String, bool)> = nodes
        .lines()
        .map(|l| l.split(' ').collect::<Vec<_>>())
        .filter(|f| f.len() > 7 && f[2].contains("master"))
        .map(|f| {
            let serves = f[8..].iter().any(|r| {
                let (a, b) = r.split_once('-').unwrap_or((r, r));
                a.parse::<u16>().is_ok_and(|a| a <= slot) && b.parse::<u16>().is_ok_and(|b| slot <= b)
            });
            (f[0].to_owned(), f[1].split('@').next().unwrap().to_owned(), serves)
        })
        .collect();
    let owner = masters.iter().find(|m| m.2).expect("a master serves the slot");
    let other = masters.iter().find(|m| !m.2).expect("another master");
    ((owner.0.clone(), owner.1.clone()), (other.0.clone(), other.1.clone()))
}

async fn wait_for_direct(routed: &SlotRouted, limiter: &Limiter<SlotRouted>, p: &ratelimit::StackPolicy) {
    for _ in 0..100 {
        let before = routed.routes().direct;
        assert!(limiter.stack(p).check(1).await.unwrap().is_admitted());
        if routed.routes().direct > before {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the slot's owner was never learned: {:?}", routed.routes());
}

#[tokio::test]
async fn a_moved_slot_is_resent_through_the_cluster_and_its_new_owner_learned() {
    let private = testkit::redis_cluster::PrivateCluster::start().await;
    let cfg = private.config();
    let cluster = store::redis_cluster::connect(&cfg).await.unwrap();
    let routed = SlotRouted::new(cluster, Default::default(), Duration::from_secs(2));
    let limiter = Limiter::new(routed.clone(), "moved:").unwrap();
    let p = policy("moved", "minute=1000/1m");

    // the first decision goes through the cluster (owner unknown) and starts learning the owners
    wait_for_direct(&routed, &limiter, &p).await;
    let learned = routed.routes();
    assert_eq!(learned.redirected, 0, "{learned:?}");

    // reshard: move the stack's slot to another master (its keys deleted first, as a migration
    // of an empty slot), the way redis-cli does it: importing, migrating, then the new owner
    let keys = limiter.stack(&p).redis_keys();
    let slot = ratelimit::cluster::slot_of(keys[0].as_bytes());
    let ((owner_id, owner), (target_id, target)) = owner_and_other(&cfg.addresses[0], slot).await;
    let mut source = node(&owner).await;
    let mut dest = node(&target).await;
    let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut source).await.unwrap();
    let setslot = |state: &str, id: &str| {
        let mut c = redis::cmd("CLUSTER");
        c.arg("SETSLOT").arg(slot).arg(state).arg(id);
        c
    };
    let _: () = setslot("IMPORTING", &owner_id).query_async(&mut dest).await.unwrap();
    let _: () = setslot("MIGRATING", &target_id).query_async(&mut source).await.unwrap();
    for addr in [&target, &owner] {
        let _: () = setslot("NODE", &target_id).query_async(&mut node(addr).await).await.unwrap();
    }
    for addr in &cfg.addresses {
        if *addr != target && *addr != owner {
            let _: () = setslot("NODE", &target_id).query_async(&mut node(addr).await).await.unwrap();
        }
    }

    // the direct path still believes the old owner: MOVED, resent through the cluster, decided once
    let decision = limiter.stack(&p).check(1).await.unwrap();
    assert!(decision.is_admitted(), "{decision:?}");
    assert_eq!(decision.level("minute").unwrap().remaining, 999, "charged once, on the new owner");
    let after = routed.routes();
    assert_eq!(after.redirected, learned.redirected + 1, "{after:?}");
    let on_target: u32 = redis::cmd("EXISTS").arg(&keys[0]).query_async(&mut dest).await.unwrap();
    assert_eq!(on_target, 1, "the decision was charged on the new owner");

    // and the new owner is learned: decisions go direct again, with no more redirects
    wait_for_direct(&routed, &limiter, &p).await;
    assert_eq!(routed.routes().redirected, after.redirected, "{:?}", routed.routes());
}
