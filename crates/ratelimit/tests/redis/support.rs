//! The two topologies behind one trait, so a test body is written once and run on both.

use std::future::Future;

use ratelimit::{Limiter, StackPolicy};
use redis::aio::{ConnectionLike, ConnectionManager};
use redis::cluster_async::ClusterConnection;

pub trait Topology: ConnectionLike + Clone + Send + Sync + 'static {
    /// A new, separate connection.
    fn connect() -> impl Future<Output = Self> + Send;
    /// How `ratelimit-load` reaches the same Redis.
    fn load_args() -> Vec<String>;
    /// Every node's address.
    fn nodes() -> Vec<String>;
}

impl Topology for ConnectionManager {
    async fn connect() -> Self {
        redis::Client::open(testkit::redis_url()).unwrap().get_connection_manager().await.unwrap()
    }

    fn load_args() -> Vec<String> {
        vec!["--redis".into(), testkit::redis_url()]
    }

    fn nodes() -> Vec<String> {
        vec![testkit::redis_url().trim_start_matches("redis://").to_owned()]
    }
}

impl Topology for ClusterConnection {
    async fn connect() -> Self {
        store::redis_cluster::connect(&testkit::redis_cluster_config()).await.unwrap()
    }

    fn load_args() -> Vec<String> {
        vec!["--cluster".into(), testkit::redis_cluster_config().addresses.join(","), "--redis-rs-routing".into()]
    }

    fn nodes() -> Vec<String> {
        testkit::redis_cluster_config().addresses
    }
}

/// The crate's cluster connection: decisions straight to their slot's master.
impl Topology for ratelimit::SlotRouted {
    async fn connect() -> Self {
        let cluster = ClusterConnection::connect().await;
        ratelimit::SlotRouted::new(cluster, Default::default(), std::time::Duration::from_secs(2))
    }

    fn load_args() -> Vec<String> {
        ClusterConnection::load_args()
    }

    fn nodes() -> Vec<String> {
        ClusterConnection::nodes()
    }
}

/// A limiter with a key prefix of its own.
pub async fn limiter<C: Topology>() -> Limiter<C> {
    Limiter::new(C::connect().await, &testkit::redis_prefix()).unwrap()
}

/// A policy for tests about decisions, not latency: the bound on a round trip is 5 s instead of
/// the default 100 ms, so a loaded CI machine (every suite in parallel on 2 cores) turns slowness
/// into waiting rather than into `Unavailable` errors. Fault tests set their own bound.
pub fn policy(name: &str, limits: &str) -> StackPolicy {
    StackPolicy::parse(name, limits).unwrap().with_timeout(std::time::Duration::from_secs(5)).unwrap()
}

/// Redis's clock in milliseconds (the clock the limiter decides by).
pub async fn redis_time_ms<C: Topology>(conn: &mut C) -> u64 {
    let (s, us): (u64, u64) = redis::cmd("TIME").query_async(conn).await.unwrap();
    s * 1000 + us / 1000
}

/// Declares a test body, generic over the topology, as three tests: `single_node`, `cluster`
/// (redis-rs's cluster routing) and `cluster_direct` (the crate's [`ratelimit::SlotRouted`]).
#[macro_export]
macro_rules! on_both_topologies {
    ($body:ident) => {
        mod $body {
            #[tokio::test]
            async fn single_node() {
                super::$body::<redis::aio::ConnectionManager>().await
            }

            #[tokio::test]
            async fn cluster() {
                super::$body::<redis::cluster_async::ClusterConnection>().await
            }

            #[tokio::test]
            async fn cluster_direct() {
                super::$body::<ratelimit::SlotRouted>().await
            }
        }
    };
}
