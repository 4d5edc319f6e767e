//! The test stack's Redis Cluster is a real cluster: 3 masters, all 16384 slots, and a client
//! that follows redirects across nodes.

use redis::AsyncCommands;

#[tokio::test]
async fn the_cluster_has_three_masters_covering_every_slot() {
    let cfg = testkit::redis_cluster_config();
    assert_eq!(cfg.addresses.len(), 3);
    let first = redis::Client::open(format!("redis://{}", cfg.addresses[0])).unwrap();
    let mut conn = first.get_multiplexed_async_connection().await.unwrap();
    let nodes: String = redis::cmd("CLUSTER").arg("NODES").query_async(&mut conn).await.unwrap();
    let masters: Vec<&str> =
        nodes.lines().filter(|l| l.split(' ').nth(2).is_some_and(|f| f.contains("master"))).collect();
    assert_eq!(masters.len(), 3, "{nodes}");
    // bus ports beside the node ports, outside the kernel's ephemeral range (32768+), where an
    // outgoing connection could hold them
    for line in &masters {
        let addr = line.split(' ').nth(1).unwrap(); // 127.0.0.1:25010@25030
        let (port, bus) = addr.rsplit_once(':').unwrap().1.split_once('@').unwrap();
        let (port, bus): (u16, u16) = (port.parse().unwrap(), bus.split(',').next().unwrap().parse().unwrap());
        assert_eq!(bus, port + stack::redis::CLUSTER_BUS_OFFSET, "{line}");
        assert!(bus < 32768, "{line}");
    }

    let mut covered = vec![false; 16384];
    for line in &masters {
        for range in line.split(' ').skip(8) {
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            let (a, b) = (a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap());
            for (slot, seen) in covered.iter_mut().enumerate().take(b + 1).skip(a) {
                assert!(!*seen, "slot {slot} is served twice");
                *seen = true;
            }
        }
    }
    assert!(covered.iter().all(|c| *c), "some slots are not assigned");
    let info: String = redis::cmd("CLUSTER").arg("INFO").query_async(&mut conn).await.unwrap();
    assert!(info.contains("cluster_state:ok"), "{info}");
}

#[tokio::test]
async fn a_cluster_client_reaches_keys_on_every_node() {
    let prefix = testkit::redis_prefix();
    let mut cluster = store::redis_cluster::connect(&testkit::redis_cluster_config()).await.unwrap();
    store::redis_cluster::ping(&mut cluster).await.unwrap();
    // 50 keys hash to slots on all three masters
    for i in 0..50 {
        let _: () = cluster.set_ex(format!("{prefix}session:{i}"), i, 60).await.unwrap();
    }
    for i in 0..50 {
        let v: i32 = cluster.get(format!("{prefix}session:{i}")).await.unwrap();
        assert_eq!(v, i);
    }
    let mut holders = std::collections::BTreeSet::new();
    for addr in testkit::redis_cluster_config().addresses {
        let mut node =
            redis::Client::open(format!("redis://{addr}")).unwrap().get_multiplexed_async_connection().await.unwrap();
        let n: usize = redis::cmd("DBSIZE").query_async(&mut node).await.unwrap();
        if n > 0 {
            holders.insert(addr);
        }
    }
    assert_eq!(holders.len(), 3, "keys should spread over all masters");
}
