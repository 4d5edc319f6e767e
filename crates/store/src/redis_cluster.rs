//! Redis Cluster (sessions, caches) and single-node Redis (beat's rate-limit backend) clients.

use platform::config::{ExposeSecret, RedisClusterConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;

fn client(cfg: &RedisClusterConfig) -> redis::RedisResult<redis::cluster::ClusterClient> {
    let nodes: Vec<String> = cfg.addresses.iter().map(|a| format!("redis://{a}")).collect();
    let mut builder = ClusterClientBuilder::new(nodes)
        .connection_timeout(cfg.timeout)
        .response_timeout(cfg.timeout)
        // a failed command is retried within the timeout, not beyond it
        .overall_response_timeout(Some(cfg.timeout * 2));
    let password = cfg.password.expose_secret();
    if !password.is_empty() {
        builder = builder.password(password);
    }
    builder.build()
}

/// What a connection to one of the cluster's nodes needs besides its address (the password).
pub fn node_settings(cfg: &RedisClusterConfig) -> redis::RedisConnectionInfo {
    let password = cfg.password.expose_secret();
    let settings = redis::RedisConnectionInfo::default();
    if password.is_empty() {
        settings
    } else {
        settings.set_password(password)
    }
}

/// Connects to the cluster now (an unreachable cluster is an error); the client discovers
/// slots and follows MOVED/ASK redirects.
pub async fn connect(cfg: &RedisClusterConfig) -> redis::RedisResult<ClusterConnection> {
    client(cfg)?.get_async_connection().await
}

/// A connection that connects in the background and reconnects on use: for a service that
/// must start and serve while Redis is down (commands fail fast until it is back).
pub fn connect_lazy(cfg: &RedisClusterConfig) -> redis::RedisResult<ClusterConnection> {
    Ok(client(cfg)?.get_pending_async_connection_with_config(
        redis::cluster::ClusterConfig::new().set_connection_timeout(cfg.timeout).set_response_timeout(cfg.timeout),
    ))
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
