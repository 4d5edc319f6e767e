//! Logouts and API key revocations reach every gateway at once: coffee publishes the session id
//! (or `apikey:<hash>`) on `{REDIS_KEY_PREFIX}session-invalidation`, and each gateway drops it
//! from its in-process tier. Redis Cluster forwards published messages to every node, so subscribing on any one
//! node is enough.
//!
//! A subscription that silently dies (a half-open TCP connection, a node that stopped
//! answering) would drop every later logout, so the connection is pinged every
//! `INVALIDATION_PING_MS` and declared dead when a ping is not answered within that interval.
//! Whenever the subscription is lost, announcements may have been missed, so the whole
//! in-process tier is dropped as soon as a new subscription stands. While Redis is down the
//! in-process tier keeps serving (bounded by `SESSION_CACHE_TTL`): a logout in that window is
//! recorded in Postgres and answered `propagated: false`, and it reaches every gateway when
//! Redis returns.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use platform::config::{ExposeSecret, RedisClusterConfig};
use tokio_util::sync::CancellationToken;

use super::keys::KeyTiers;
use super::SessionTiers;

/// The in-process tiers an announcement may concern.
pub struct Listeners {
    pub sessions: Arc<SessionTiers>,
    pub keys: Arc<KeyTiers>,
}

impl Listeners {
    /// Drops everything cached: announcements may have been missed.
    fn forget_all(&self) {
        self.sessions.forget_all();
        self.keys.forget_all();
    }
}

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
        match tokio::time::timeout(cfg.timeout * 4, attempt).await {
            Ok(Ok(pubsub)) => return Ok(pubsub),
            Ok(Err(e)) => last = Some(e),
            Err(_) => last = Some((redis::ErrorKind::Io, "subscribe timed out").into()),
        }
    }
    Err(last.unwrap_or_else(|| (redis::ErrorKind::InvalidClientConfig, "no Redis Cluster address").into()))
}

/// Why a subscription ended.
enum Lost {
    Closed,
    PingUnanswered,
}

/// Acts on one announcement: the session it names is refused from now on.
async fn deliver(msg: redis::Msg, tiers: &Listeners) {
    match msg.get_payload::<String>() {
        Ok(payload) => match tenancy::api_key_of_invalidation(&payload) {
            Some(hash) => {
                tiers.keys.forget(&hash).await;
                metrics::counter!("gateway_api_key_invalidations_total").increment(1);
            }
            None => {
                tiers.sessions.forget(&payload).await;
                metrics::counter!("gateway_session_invalidations_total").increment(1);
            }
        },
        Err(e) => tracing::warn!(error = %e, "unreadable invalidation message"),
    }
}

/// Delivers announcements until the subscription is lost.
async fn pump(pubsub: redis::aio::PubSub, tiers: &Listeners, ping_every: Duration) -> Lost {
    let (mut sink, mut messages) = pubsub.split();
    let mut ticker = tokio::time::interval(ping_every);
    ticker.tick().await;
    loop {
        tokio::select! {
            msg = messages.next() => match msg {
                Some(msg) => deliver(msg, tiers).await,
                None => return Lost::Closed,
            },
            _ = ticker.tick() => {
                // the reply comes back on the same connection, so an answered ping proves
                // messages can still arrive; the message stream keeps being read meanwhile
                let ping = tokio::time::timeout(ping_every, sink.ping::<redis::Value>());
                let answered = tokio::select! {
                    r = ping => matches!(r, Ok(Ok(_))),
                    msg = messages.next() => match msg {
                        Some(msg) => {
                            deliver(msg, tiers).await;
                            true
                        }
                        None => return Lost::Closed,
                    },
                };
                if !answered {
                    return Lost::PingUnanswered;
                }
            }
        }
    }
}

/// Subscribes now if Redis answers (so a gateway that has started hears every later logout),
/// else keeps trying in the background so the gateway can start without Redis; then listens
/// until `stop` is cancelled (the subscription's connection is closed then).
pub async fn listen(
    cfg: RedisClusterConfig,
    prefix: &str,
    tiers: Listeners,
    ping_every: Duration,
    stop: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    let channel = format!("{prefix}{}", tenancy::INVALIDATION_CHANNEL);
    let mut ready = match subscribe(&cfg, &channel).await {
        Ok(pubsub) => Some(pubsub),
        Err(e) => {
            tracing::warn!(error = %e, "cannot subscribe to session invalidations yet; retrying in the background");
            None
        }
    };
    let listening = async move {
        let mut first = ready.is_some();
        loop {
            let pubsub = match ready.take() {
                Some(pubsub) => pubsub,
                None => match subscribe(&cfg, &channel).await {
                    Ok(pubsub) => {
                        // announcements may have been missed while unsubscribed
                        tiers.forget_all();
                        metrics::counter!("gateway_invalidation_resubscribes_total").increment(1);
                        pubsub
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot subscribe to session invalidations; retrying");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                },
            };
            if std::mem::take(&mut first) {
                tracing::info!("subscribed to session invalidations");
            }
            metrics::gauge!("gateway_invalidation_subscribed").set(1.0);
            let lost = pump(pubsub, &tiers, ping_every).await;
            metrics::gauge!("gateway_invalidation_subscribed").set(0.0);
            match lost {
                Lost::Closed => tracing::warn!("session invalidation subscription closed; resubscribing"),
                Lost::PingUnanswered => {
                    tracing::warn!("session invalidation subscription stopped answering pings; resubscribing");
                }
            }
        }
    };
    tokio::spawn(async move {
        tokio::select! {
            () = stop.cancelled() => {}
            () = listening => {}
        }
    })
}
