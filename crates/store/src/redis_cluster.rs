//! Redis Cluster (sessions, caches) and single-node Redis (beat's rate-limit backend) clients.

use platform::config::{ExposeSecret, RedisClusterConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;

/// Connects to the cluster; the client discovers slots and follows MOVED/ASK redirects.
pub async fn connect(cfg: &RedisClusterConfig) -> redis::RedisResult<ClusterConnection> {
    let nodes: Vec<String> = cfg.addresses.iter().map(|a| format!("redis://{a}")).collect();
    let mut builder = ClusterClientBuilder::new(nodes);
    let password = cfg.password.expose_secret();
    if !password.is_empty() {
        builder = builder.password(password);
    }
    builder.build()?.get_async_connection().await
}

/// `PING` through the cluster connection.
pub async fn ping(conn: &mut ClusterConnection) -> Result<(), String> {
    redis::cmd("PING").query_async::<String>(conn).await.map(drop).map_err(|e| e.to_string())
}

/// A `/ready` check for this connection.
pub fn ready_check(conn: &ClusterConnection) -> platform::http::Check {
    let conn = conn.clone();
    platform::http::check(move || {
        let mut conn = conn.clone();
        async move { ping(&mut conn).await }
    })
}
