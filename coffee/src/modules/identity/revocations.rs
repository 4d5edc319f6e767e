//! The revocation propagator: logouts whose Redis step failed (Redis down or slow) are
//! recorded in Postgres with `revocation_pending`; this loop tells Redis (tombstone, delete,
//! announce) until it has, so a gateway never serves a revoked session for longer than Redis is
//! unreachable plus one interval. Revoking twice is harmless, so a crash between the Redis
//! step and clearing the flag only repeats work. Each pass also carries API key revocations
//! ([`crate::modules::api_key::revocations`]), which fail and recover the same way.

use std::time::Duration;

use store::sessions::SessionCache;
use tokio_util::sync::CancellationToken;

use super::repo;

/// The longest one pass may take: a silent database or Redis ends the pass (the next tick tries
/// again) instead of stopping the loop for as long as the store stays silent.
const PASS_DEADLINE: Duration = Duration::from_secs(30);

/// Runs every `every` until `stop` is cancelled.
pub fn spawn(pg: sqlx::PgPool, sessions: SessionCache, every: Duration, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let pass = async {
                propagate(&pg, &sessions).await?;
                crate::modules::api_key::revocations::propagate(&pg, &sessions).await
            };
            match tokio::time::timeout(PASS_DEADLINE, pass).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "revocation propagation failed; will retry"),
                Err(_) => tracing::warn!("revocation propagation unanswered within {PASS_DEADLINE:?}; will retry"),
            }
        }
    });
}

/// One pass; returns how many revocations reached Redis.
pub async fn propagate(pg: &sqlx::PgPool, sessions: &SessionCache) -> anyhow::Result<usize> {
    let pending = repo::pending_revocations(pg, 500).await?;
    let mut done = 0;
    for (sid, expires_at) in pending {
        sessions.revoke(&sid.to_string(), expires_at).await?;
        repo::revocation_propagated(pg, sid).await?;
        done += 1;
    }
    if done > 0 {
        metrics::counter!("identity_revocations_propagated_total").increment(done as u64);
    }
    Ok(done)
}
