//! Key revocations whose Redis step failed (Redis down or slow) stay marked
//! `revocation_pending` in Postgres; each pass of the revocation propagator (which also carries
//! logouts, see `identity::revocations`) tells Redis until it has. Revoking twice is harmless.

use store::sessions::SessionCache;

use super::repo;

/// One pass; returns how many key revocations reached Redis.
pub async fn propagate(pg: &sqlx::PgPool, sessions: &SessionCache) -> anyhow::Result<usize> {
    let pending = repo::pending_revocations(pg, 500).await?;
    let mut done = 0;
    for (id, hash) in pending {
        let Some(hash) = tenancy::KeyHash::from_hex(&hash) else {
            anyhow::bail!("API key {id} has an unreadable hash");
        };
        sessions.revoke_key(&hash).await?;
        repo::revocation_propagated(pg, id).await?;
        done += 1;
    }
    if done > 0 {
        metrics::counter!("api_key_revocations_propagated_total").increment(done as u64);
    }
    Ok(done)
}
