//! Identity's rules.
//!
//! - **Login**: argon2 password check (same cost for unknown emails), a session row in
//!   Postgres, an HS256 token, and the session cached in Redis after the commit. Redis is an
//!   accelerator here: when it is down or slow (bounded by `REDIS_TIMEOUT_MS`) the login still
//!   succeeds and the gateway falls back to verify.
//! - **Logout**: the revocation is committed to Postgres first (an error if that fails: nothing
//!   is promised that was not recorded), then Redis gets the tombstone, loses the session and
//!   announces the logout to every gateway, in one script. If Redis cannot be told, the answer
//!   says so (202 with `propagated: false`, and a metric) and the propagator retries.
//! - **Verify**: the token checked against its stored session; the session re-cached in Redis
//!   unless a logout's tombstone is there, in which case the session has just ended.

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::sessions::{Put, SessionCache};
use utoipa::ToSchema;

pub use tenancy::SessionInfo;

use super::repo::{self, UserRow};
use super::tokens::{Claims, TokenKeys};
use crate::core::context::RequestContext;
use crate::error::{ApiError, ApiResult};

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

/// What a logout achieved beyond Postgres.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogoutOutcome {
    /// Always true: the answer is an error when the revocation could not be recorded.
    pub revoked: bool,
    /// Whether Redis and the gateways were told at once. When false, gateways holding the
    /// session in memory may serve it until the propagator reaches Redis (seconds).
    pub propagated: bool,
}

fn unauthorized() -> ApiError {
    ApiError::Unauthorized("invalid email or password".into())
}

/// A token's claims and its session id, if coffee signed it and it has not expired.
fn session_of(tokens: &TokenKeys, token: &str) -> ApiResult<(Claims, uuid::Uuid)> {
    let claims = tokens.verify(token)?;
    let sid =
        uuid::Uuid::parse_str(&claims.sid).map_err(|_| ApiError::Unauthorized("invalid token: bad sid".into()))?;
    Ok((claims, sid))
}

fn session_ended() -> ApiError {
    ApiError::Unauthorized("the session has ended (logged out or expired)".into())
}

/// A well-formed hash of a random password, verified against when the email is unknown so both
/// failures take the same time.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$4TSf0Lpsh2jIvfCu8PlGuGcvFdDxWCtrcYzOYD/DUoI";

pub async fn login(
    ctx: &RequestContext,
    tokens: &TokenKeys,
    sessions: &SessionCache,
    req: LoginRequest,
) -> ApiResult<LoginResponse> {
    if req.email.len() > 320 || req.password.len() > 1024 {
        return Err(unauthorized());
    }
    let user = repo::user_by_email(ctx, &req.email).await?;
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
    if status != repo::UserStatus::Active {
        return Err(ApiError::Unauthorized("this user is disabled".into()));
    }

    let now = Utc::now();
    let expires_at = now + chrono::Duration::from_std(ctx.config.jwt_ttl).map_err(|e| ApiError::Internal(e.into()))?;
    let sid = uuid::Uuid::new_v4();
    repo::create_session(ctx, sid, user_id, partner_id, expires_at).await?;
    let token = tokens.sign(&Claims {
        sid: sid.to_string(),
        sub: user_id.to_string(),
        uid: user_id,
        name: name.clone(),
        pid: partner_id,
        aid: account_id,
        iss: ctx.config.jwt_issuer.clone(),
        iat: now.timestamp(),
        nbf: now.timestamp(),
        exp: expires_at.timestamp(),
    })?;
    let session = SessionInfo { sid: sid.to_string(), user_id, user_name: name, partner_id, account_id, expires_at };
    let sessions = sessions.clone();
    let cached = session.clone();
    ctx.perform_after_commit(async move {
        if let Err(e) = sessions.put(&cached).await {
            metrics::counter!("identity_session_cache_failures_total", "op" => "login").increment(1);
            tracing::warn!(error = %e, "could not cache the session in redis; the gateway will fall back to verify");
        }
    });
    Ok(LoginResponse { token, expires_at, session })
}

pub async fn logout(
    ctx: &RequestContext,
    tokens: &TokenKeys,
    sessions: &SessionCache,
    req: TokenRequest,
) -> ApiResult<LogoutOutcome> {
    let (claims, sid) = session_of(tokens, &req.token)?;
    repo::revoke(ctx, sid).await?;
    // recorded before anyone is told
    ctx.pg.commit().await?;
    let until = DateTime::from_timestamp(claims.exp, 0).unwrap_or_else(Utc::now);
    match sessions.revoke(&claims.sid, until).await {
        Ok(()) => {
            let cleared = ctx.postgres("revocation_propagated", async {
                Ok(repo::revocation_propagated(ctx.pg.pool(), sid).await?)
            });
            if let Err(e) = cleared.await {
                // harmless: the propagator will revoke again (idempotent)
                tracing::warn!(error = %e, "could not clear the pending revocation flag");
            }
            Ok(LogoutOutcome { revoked: true, propagated: true })
        }
        Err(e) => {
            metrics::counter!("identity_revocation_fast_path_failures_total").increment(1);
            tracing::warn!(error = %e, "logout recorded in postgres; redis will be told by the propagator");
            Ok(LogoutOutcome { revoked: true, propagated: false })
        }
    }
}

pub async fn verify(
    ctx: &RequestContext,
    tokens: &TokenKeys,
    sessions: &SessionCache,
    req: TokenRequest,
) -> ApiResult<SessionInfo> {
    let (claims, sid) = session_of(tokens, &req.token)?;
    let live = repo::live_session(ctx, sid).await?.ok_or_else(session_ended)?;
    let session = SessionInfo {
        sid: claims.sid,
        user_id: live.user_id,
        user_name: live.name,
        partner_id: live.partner_id,
        account_id: live.account_id,
        expires_at: live.expires_at,
    };
    ctx.config.hooks.pause("identity.verify.before_cache").await;
    // re-warm the cache the gateway missed, unless a logout got there first
    match sessions.put(&session).await {
        Ok(Put::Stored) => Ok(session),
        Ok(Put::Revoked) => Err(session_ended()),
        Err(e) => {
            metrics::counter!("identity_session_cache_failures_total", "op" => "verify").increment(1);
            tracing::warn!(error = %e, "could not re-cache the session in redis");
            Ok(session)
        }
    }
}
