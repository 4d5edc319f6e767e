//! API keys' SQL: keys created, listed, found by hash, revoked, and their pending revocations.

use chrono::{DateTime, Utc};
use tenancy::KeyScope;

use crate::core::context::RequestContext;
use crate::core::error::StoreResult;

/// A key as stored (never the secret).
#[derive(Debug, sqlx::FromRow)]
pub struct KeyRow {
    pub id: i64,
    pub partner_id: i64,
    pub name: String,
    pub client_id: String,
    pub key_hash: String,
    pub shown: String,
    #[sqlx(try_from = "String")]
    pub scope: Scope,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub created_by: Option<i64>,
    pub rotated_from: Option<i64>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// The `scope` column, parsed.
#[derive(Debug, Clone, Copy)]
pub struct Scope(pub KeyScope);

impl TryFrom<String> for Scope {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse().map(Scope)
    }
}

const COLUMNS: &str = "id, partner_id, name, client_id, key_hash, shown, scope, expires_at, last_used_at, \
                       created_by, rotated_from, revoked_at, created_at";

/// A new key's row.
pub struct NewKeyRow<'a> {
    pub partner_id: i64,
    pub name: &'a str,
    pub client_id: &'a str,
    pub key_hash: &'a str,
    pub shown: &'a str,
    pub scope: KeyScope,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_by: Option<i64>,
    pub rotated_from: Option<i64>,
}

pub async fn insert(ctx: &RequestContext, new: NewKeyRow<'_>) -> StoreResult<KeyRow> {
    ctx.postgres("api_key_insert", async {
        let mut tx = ctx.pg.tx().await?;
        Ok(sqlx::query_as(&format!(
            "INSERT INTO partner_api_key (partner_id, name, client_id, key_hash, shown, scope, expires_at, created_by, rotated_from) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
        ))
        .bind(new.partner_id)
        .bind(new.name)
        .bind(new.client_id)
        .bind(new.key_hash)
        .bind(new.shown)
        .bind(new.scope.as_str())
        .bind(new.expires_at)
        .bind(new.created_by)
        .bind(new.rotated_from)
        .fetch_one(&mut *tx)
        .await?)
    })
    .await
}

/// How many of the partner's keys still work (not revoked, not expired).
pub async fn count_live(ctx: &RequestContext, partner_id: i64) -> StoreResult<i64> {
    ctx.postgres("api_key_count_live", async {
        let mut tx = ctx.pg.tx().await?;
        // the partner row is locked so two concurrent creations cannot both pass the cap
        sqlx::query("SELECT 1 FROM partner WHERE id = $1 FOR UPDATE").bind(partner_id).execute(&mut *tx).await?;
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM partner_api_key WHERE partner_id = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > now())",
        )
        .bind(partner_id)
        .fetch_one(&mut *tx)
        .await?)
    })
    .await
}

/// The partner's keys, newest first (revoked ones included: the list is also the history).
pub async fn list(ctx: &RequestContext, partner_id: i64) -> StoreResult<Vec<KeyRow>> {
    ctx.postgres("api_key_list", async {
        let mut conn = ctx.pg.read().await?;
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM partner_api_key WHERE partner_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(partner_id)
        .fetch_all(&mut *conn)
        .await?)
    })
    .await
}

/// One of the partner's keys, locked for a change.
pub async fn owned_for_update(ctx: &RequestContext, partner_id: i64, id: i64) -> StoreResult<Option<KeyRow>> {
    ctx.postgres("api_key_owned", async {
        let mut tx = ctx.pg.tx().await?;
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM partner_api_key WHERE id = $1 AND partner_id = $2 FOR UPDATE"
        ))
        .bind(id)
        .bind(partner_id)
        .fetch_optional(&mut *tx)
        .await?)
    })
    .await
}

/// A key by its hash, with whether its partner is active.
pub async fn by_hash(ctx: &RequestContext, key_hash: &str) -> StoreResult<Option<(KeyRow, bool)>> {
    #[derive(sqlx::FromRow)]
    struct Found {
        #[sqlx(flatten)]
        key: KeyRow,
        partner_active: bool,
    }
    ctx.postgres("api_key_by_hash", async {
        let mut conn = ctx.pg.read().await?;
        // the partner's side is renamed so the key's columns can be named bare
        let found: Option<Found> = sqlx::query_as(&format!(
            "SELECT {COLUMNS}, partner_active FROM partner_api_key \
             JOIN (SELECT id AS active_partner_id, status = 'ACTIVE' AS partner_active FROM partner) p \
               ON p.active_partner_id = partner_id \
             WHERE key_hash = $1"
        ))
        .bind(key_hash)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(found.map(|f| (f.key, f.partner_active)))
    })
    .await
}

/// Records that a key was seen in use (once per verify, that is once per cache miss).
pub async fn touch(pg: &sqlx::PgPool, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE partner_api_key SET last_used_at = now() WHERE id = $1").bind(id).execute(pg).await.map(drop)
}

/// Marks the key revoked, with its Redis revocation still to be done. Idempotent.
pub async fn revoke(ctx: &RequestContext, id: i64) -> StoreResult<()> {
    ctx.postgres("api_key_revoke", async {
        let mut tx = ctx.pg.tx().await?;
        sqlx::query(
            "UPDATE partner_api_key SET revoked_at = coalesce(revoked_at, now()), revocation_pending = true WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        Ok(())
    })
    .await
}

/// Revocations Redis has not recorded yet (oldest first), for the propagator: (id, hash).
pub async fn pending_revocations(pg: &sqlx::PgPool, limit: i64) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as("SELECT id, key_hash FROM partner_api_key WHERE revocation_pending ORDER BY revoked_at LIMIT $1")
        .bind(limit)
        .fetch_all(pg)
        .await
}

/// Records that Redis has the revocation.
pub async fn revocation_propagated(pg: &sqlx::PgPool, id: i64) -> sqlx::Result<()> {
    sqlx::query("UPDATE partner_api_key SET revocation_pending = false WHERE id = $1")
        .bind(id)
        .execute(pg)
        .await
        .map(drop)
}
