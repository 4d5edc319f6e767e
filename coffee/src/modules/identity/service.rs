//! Sessions. Redis is written only after the Postgres transaction commits (an after-commit
//! hook), so a failed login never leaves a usable cached session behind.

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use tenancy::{session_key, SessionInfo, INVALIDATION_CHANNEL};

use crate::core::context::RequestContext;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub sid: String,
    pub sub: String,
    pub uid: i64,
    pub name: String,
    pub pid: i64,
    pub aid: Option<i64>,
    pub iat: i64,
    pub exp: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub token: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub session: SessionInfo,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    partner_id: i64,
    account_id: Option<i64>,
    name: String,
    password_hash: String,
    status: String,
}

#[derive(sqlx::FromRow)]
struct LiveSession {
    user_id: i64,
    partner_id: i64,
    expires_at: DateTime<Utc>,
    name: String,
    account_id: Option<i64>,
}

fn unauthorized() -> ApiError {
    ApiError::Unauthorized("invalid email or password".into())
}

/// A well-formed hash of a random password, verified against when the email is unknown so both
/// failures take the same time.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$4TSf0Lpsh2jIvfCu8PlGuGcvFdDxWCtrcYzOYD/DUoI";

fn decode(ctx: &RequestContext, token: &str) -> ApiResult<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_required_spec_claims(&["exp", "sid"]);
    jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&ctx.config.hmac_key()), &validation)
        .map(|d| d.claims)
        .map_err(|e| ApiError::Unauthorized(format!("invalid token: {e}")))
}

pub async fn login(ctx: &RequestContext, state: &AppState, req: LoginRequest) -> ApiResult<LoginResponse> {
    if req.email.len() > 320 || req.password.len() > 1024 {
        return Err(unauthorized());
    }
    let user: Option<UserRow> = {
        let mut tx = ctx.pg.read().await?;
        sqlx::query_as(
            "SELECT u.id, u.partner_id, u.account_id, u.name, u.password_hash, u.status FROM users u \
             JOIN partner p ON p.id = u.partner_id WHERE lower(u.email) = lower($1) AND p.status = 'ACTIVE'",
        )
        .bind(&req.email)
        .fetch_optional(&mut *tx)
        .await?
    };
    let hash = user.as_ref().map_or(DUMMY_HASH.to_owned(), |u| u.password_hash.clone());
    let password = req.password.clone();
    let verified = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?;
    let Some(UserRow { id: user_id, partner_id, account_id, name, status, .. }) = user.filter(|_| verified) else {
        return Err(unauthorized());
    };
    if status != "ACTIVE" {
        return Err(ApiError::Unauthorized("this user is disabled".into()));
    }

    let now = Utc::now();
    let expires_at = now + chrono::Duration::from_std(ctx.config.jwt_ttl).map_err(|e| ApiError::Internal(e.into()))?;
    let sid = uuid::Uuid::new_v4();
    {
        let mut tx = ctx.pg.tx().await?;
        sqlx::query("INSERT INTO user_session (id, user_id, partner_id, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(sid)
            .bind(user_id)
            .bind(partner_id)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE users SET last_login_at = now() WHERE id = $1").bind(user_id).execute(&mut *tx).await?;
    }
    let claims = Claims {
        sid: sid.to_string(),
        sub: user_id.to_string(),
        uid: user_id,
        name: name.clone(),
        pid: partner_id,
        aid: account_id,
        iat: now.timestamp(),
        exp: expires_at.timestamp(),
    };
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(&ctx.config.hmac_key()),
    )
    .map_err(|e| ApiError::Internal(e.into()))?;
    let session = SessionInfo { sid: sid.to_string(), user_id, user_name: name, partner_id, account_id, expires_at };
    cache_after_commit(ctx, state, &session);
    Ok(LoginResponse { token, expires_at, session })
}

fn cache_after_commit(ctx: &RequestContext, state: &AppState, session: &SessionInfo) {
    let mut redis = state.redis.clone();
    let key = session_key(&ctx.config.redis_key_prefix, &session.sid);
    let ttl = (session.expires_at - Utc::now()).num_seconds().max(1) as u64;
    let value = serde_json::to_string(session).unwrap_or_default();
    ctx.perform_after_commit(async move {
        if let Err(e) = redis.set_ex::<_, _, ()>(&key, value, ttl).await {
            tracing::warn!(error = %e, "could not cache the session in redis; the gateway will fall back to /identity/verify");
        }
    });
}

pub async fn logout(ctx: &RequestContext, state: &AppState, req: TokenRequest) -> ApiResult<()> {
    let claims = decode(ctx, &req.token)?;
    let sid =
        uuid::Uuid::parse_str(&claims.sid).map_err(|_| ApiError::Unauthorized("invalid token: bad sid".into()))?;
    {
        let mut tx = ctx.pg.tx().await?;
        sqlx::query("UPDATE user_session SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL")
            .bind(sid)
            .execute(&mut *tx)
            .await?;
    }
    let mut redis = state.redis.clone();
    let key = session_key(&ctx.config.redis_key_prefix, &claims.sid);
    let channel = format!("{}{INVALIDATION_CHANNEL}", ctx.config.redis_key_prefix);
    let sid = claims.sid.clone();
    ctx.perform_after_commit(async move {
        if let Err(e) = redis.del::<_, ()>(&key).await {
            tracing::warn!(error = %e, "could not delete the cached session");
        }
        if let Err(e) = redis.publish::<_, _, ()>(&channel, &sid).await {
            tracing::warn!(error = %e, "could not publish the session invalidation");
        }
    });
    Ok(())
}

pub async fn verify(ctx: &RequestContext, state: &AppState, req: TokenRequest) -> ApiResult<SessionInfo> {
    let claims = decode(ctx, &req.token)?;
    let sid =
        uuid::Uuid::parse_str(&claims.sid).map_err(|_| ApiError::Unauthorized("invalid token: bad sid".into()))?;
    let row: Option<LiveSession> = {
        let mut tx = ctx.pg.read().await?;
        sqlx::query_as(
            "SELECT s.user_id, s.partner_id, s.expires_at, u.name, u.account_id FROM user_session s JOIN users u ON u.id = s.user_id \
             WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > now() AND u.status = 'ACTIVE'",
        )
        .bind(sid)
        .fetch_optional(&mut *tx)
        .await?
    };
    let live = row.ok_or_else(|| ApiError::Unauthorized("the session has ended (logged out or expired)".into()))?;
    let session = SessionInfo {
        sid: claims.sid,
        user_id: live.user_id,
        user_name: live.name,
        partner_id: live.partner_id,
        account_id: live.account_id,
        expires_at: live.expires_at,
    };
    // re-warm the cache the gateway missed
    cache_after_commit(ctx, state, &session);
    Ok(session)
}
