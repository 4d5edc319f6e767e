//! Logouts reach every gateway at once: coffee publishes the session id on
//! `{REDIS_KEY_PREFIX}session-invalidation`, and each gateway drops it from its in-process
//! tier. Redis Cluster forwards published messages to every node, so subscribing on any one
//! node is enough. If the subscription breaks, announcements may have been missed, so the whole
//! in-process tier is dropped before subscribing again.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use platform::config::{ExposeSecret, RedisClusterConfig};

use super::SessionTiers;

async fn subscribe(cfg: &RedisClusterConfig, channel: &str) -> redis::RedisResult<redis::aio::PubSub> {
    let mut last = None;
    for addr in &cfg.addresses {
        let password = cfg.password.expose_secret();
        let url = if password.is_empty() { format!("redis://{addr}") } else { format!("redis://:{password}@{addr}") };
        let attempt = async {
            let mut pubsub = redis::Client::open(url)?.get_async_pubsub().await?;
            pubsub.subscribe(channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        match attempt.await {
            Ok(pubsub) => return Ok(pubsub),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| (redis::ErrorKind::InvalidClientConfig, "no Redis Cluster address").into()))
}

/// Subscribes now (so a gateway that has started hears every later logout), then listens in
/// the background for as long as the process runs.
pub async fn listen(
    cfg: RedisClusterConfig,
    prefix: &str,
    sessions: Arc<SessionTiers>,
) -> redis::RedisResult<tokio::task::JoinHandle<()>> {
    let channel = format!("{prefix}{}", tenancy::INVALIDATION_CHANNEL);
    let first = subscribe(&cfg, &channel).await?;
    Ok(tokio::spawn(async move {
        let mut pubsub = first;
        loop {
            let mut messages = pubsub.into_on_message();
            while let Some(msg) = messages.next().await {
                match msg.get_payload::<String>() {
                    Ok(sid) => {
                        sessions.forget(&sid).await;
                        metrics::counter!("gateway_session_invalidations_total").increment(1);
                    }
                    Err(e) => tracing::warn!(error = %e, "unreadable invalidation message"),
                }
            }
            tracing::warn!("session invalidation subscription lost; resubscribing");
            pubsub = loop {
                match subscribe(&cfg, &channel).await {
                    Ok(p) => break p,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot resubscribe to session invalidations");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            };
            sessions.forget_all();
        }
    }))
}
