//! Identity's SQL: users by email, sessions created, revoked and checked.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::core::context::RequestContext;
use crate::core::observe::Store;
use crate::error::ApiResult;

/// Whether a user may sign in (`users.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Active,
    Disabled,
}

#[derive(sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub partner_id: i64,
    pub account_id: Option<i64>,
    pub name: String,
    pub password_hash: String,
    pub status: UserStatus,
}

#[derive(sqlx::FromRow)]
pub struct LiveSession {
    pub user_id: i64,
    pub partner_id: i64,
    pub expires_at: DateTime<Utc>,
    pub name: String,
    pub account_id: Option<i64>,
}

/// An active user of an active partner, by email (case-insensitive).
pub async fn user_by_email(ctx: &RequestContext, email: &str) -> ApiResult<Option<UserRow>> {
    ctx.timed(Store::Postgres, "user_by_email", async {
        let mut tx = ctx.pg.read().await?;
        Ok(sqlx::query_as(
            "SELECT u.id, u.partner_id, u.account_id, u.name, u.password_hash, u.status FROM users u \
             JOIN partner p ON p.id = u.partner_id WHERE lower(u.email) = lower($1) AND p.status = 'ACTIVE'",
        )
        .bind(email)
        .fetch_optional(&mut *tx)
        .await?)
    })
    .await
}

pub async fn create_session(
    ctx: &RequestContext,
    sid: Uuid,
    user_id: i64,
    partner_id: i64,
    expires_at: DateTime<Utc>,
) -> ApiResult<()> {
    ctx.timed(Store::Postgres, "create_session", async {
        let mut tx = ctx.pg.tx().await?;
        sqlx::query("INSERT INTO user_session (id, user_id, partner_id, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(sid)
            .bind(user_id)
            .bind(partner_id)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE users SET last_login_at = now() WHERE id = $1").bind(user_id).execute(&mut *tx).await?;
        Ok(())
    })
    .await
}

/// Marks the session revoked, with its Redis revocation still to be done. Idempotent.
pub async fn revoke(ctx: &RequestContext, sid: Uuid) -> ApiResult<()> {
    ctx.timed(Store::Postgres, "revoke_session", async {
        let mut tx = ctx.pg.tx().await?;
        sqlx::query(
            "UPDATE user_session SET revoked_at = coalesce(revoked_at, now()), revocation_pending = true \
             WHERE id = $1 AND expires_at > now()",
        )
        .bind(sid)
        .execute(&mut *tx)
        .await?;
        Ok(())
    })
    .await
}

/// The session, if live (not revoked, not expired, its user active).
pub async fn live_session(ctx: &RequestContext, sid: Uuid) -> ApiResult<Option<LiveSession>> {
    ctx.timed(Store::Postgres, "live_session", async {
        let mut tx = ctx.pg.read().await?;
        Ok(sqlx::query_as(
            "SELECT s.user_id, s.partner_id, s.expires_at, u.name, u.account_id FROM user_session s JOIN users u ON u.id = s.user_id \
             WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.status = 'ACTIVE'",
        )
        .bind(sid)
        .fetch_optional(&mut *tx)
        .await?)
    })
    .await
}

/// Revocations Redis has not recorded yet (oldest first), for the propagator.
pub async fn pending_revocations(pg: &sqlx::PgPool, limit: i64) -> sqlx::Result<Vec<(Uuid, DateTime<Utc>)>> {
    sqlx::query_as(
        "SELECT id, expires_at FROM user_session WHERE revocation_pending AND expires_at > now() \
         ORDER BY revoked_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pg)
    .await
}

/// Records that Redis has the revocation (and drops pending flags of sessions that expired).
pub async fn revocation_propagated(pg: &sqlx::PgPool, sid: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE user_session SET revocation_pending = false WHERE id = $1 OR (revocation_pending AND expires_at <= now())")
        .bind(sid)
        .execute(pg)
        .await
        .map(drop)
}
