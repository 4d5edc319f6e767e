//! API keys' rules.
//!
//! - **Who manages keys**: a person, with a session. A request made with an API key cannot
//!   create, rotate or revoke keys (403), so a leaked read-only key cannot mint itself a
//!   read-write one.
//! - **Which plans may hold keys**: SAAS and PAID. A FREE partner is refused creation and
//!   rotation with a 402 naming its plan; the edge refuses a FREE partner's existing keys the same
//!   way (a partner that drops to FREE keeps its keys, which work again after an upgrade). Listing
//!   and revoking are always allowed: a partner must always be able to see and stop its keys.
//! - **At most [`MAX_LIVE_KEYS`] live keys** per partner (409 past it).
//! - **Rotation** issues a new key with the old one's name, scope and expiry; the old key keeps
//!   working until it is revoked, so a client can be moved over without downtime.
//! - **Revocation** is recorded in Postgres first, then Redis gets a tombstone, loses the cached
//!   key and announces it to every gateway, in one script (as a logout does). When Redis cannot
//!   be told, the answer says so (202) and the propagator retries.
//! - **Verify** (the gateway's last tier): the key's state, and a live key cached in Redis unless
//!   its tombstone is there. It also records the key's last use; otherwise the gateways report
//!   use in batches ([`store::sessions::SessionCache::mark_keys_used`]), never one write per
//!   request.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use store::sessions::{Put, SessionCache};
use tenancy::{ApiKey, ApiKeyInfo, KeyScope, KeyVerdict, PlanType, API_CLIENT_TYPE};
use utoipa::ToSchema;

use super::repo::{self, KeyRow, NewKeyRow};
use crate::core::context::RequestContext;
use crate::error::{ApiError, ApiResult};

/// Live keys a partner may hold at once.
pub const MAX_LIVE_KEYS: i64 = 25;

/// A key to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// What the key is for (trimmed; 1 to 100 characters), shown in the list.
    #[schema(min_length = 1, max_length = 100, pattern = r"^[^\x00]*\S[^\x00]*$")]
    pub name: String,
    pub scope: KeyScope,
    /// When the key stops working (in the future); never, if absent.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
}

/// Where a key stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Active,
    Expired,
    Revoked,
}

/// A key as listed: everything but the secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyDto {
    pub id: i64,
    pub name: String,
    /// The key's client id: `x-bb-client-id` of its requests, and what usage is attributed to.
    pub client_id: String,
    /// The key's first characters (`bb_live_` and 4 more), to tell keys apart.
    pub prefix: String,
    pub scope: KeyScope,
    pub status: KeyStatus,
    pub created_at: DateTime<Utc>,
    pub created_by: Option<i64>,
    /// When a gateway last let a request through with this key (reported in batches: up to a
    /// few seconds behind).
    pub last_used_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The key this one replaced, when it was made by rotation.
    pub rotated_from: Option<i64>,
}

/// A new key: the secret is in this answer and nowhere else, ever.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedKey {
    /// The whole key. Store it now: only its hash is kept.
    pub secret: String,
    pub key: KeyDto,
}

/// What a revocation achieved beyond Postgres.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevocationOutcome {
    /// Always true: the answer is an error when the revocation could not be recorded.
    pub revoked: bool,
    /// Whether Redis and the gateways were told at once. When false, gateways may accept the key
    /// until the propagator reaches Redis (seconds).
    pub propagated: bool,
}

fn status(row: &KeyRow, now: DateTime<Utc>) -> KeyStatus {
    if row.revoked_at.is_some() {
        KeyStatus::Revoked
    } else if row.expires_at.is_some_and(|at| at <= now) {
        KeyStatus::Expired
    } else {
        KeyStatus::Active
    }
}

fn dto(row: KeyRow, reported_use: Option<i64>, now: DateTime<Utc>) -> KeyDto {
    let reported = reported_use.and_then(|s| DateTime::from_timestamp(s, 0));
    KeyDto {
        status: status(&row, now),
        id: row.id,
        name: row.name,
        client_id: row.client_id,
        prefix: row.shown,
        scope: row.scope.0,
        created_at: row.created_at,
        created_by: row.created_by,
        last_used_at: row.last_used_at.max(reported),
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        rotated_from: row.rotated_from,
    }
}

/// The partner and the person managing its keys, or why this caller may not.
fn manager(ctx: &RequestContext) -> ApiResult<(i64, Option<i64>)> {
    let partner = ctx.require_partner()?;
    if ctx.tenant.client_type.as_deref() == Some(API_CLIENT_TYPE) {
        return Err(ApiError::Forbidden("API keys are managed with a person's session, not with an API key".into()));
    }
    Ok((partner, ctx.user_id()))
}

/// Refuses a plan that may not hold keys.
fn plan_allows_keys(plan: PlanType) -> ApiResult<()> {
    match plan {
        PlanType::Saas | PlanType::Paid => Ok(()),
        PlanType::Free => {
            Err(ApiError::PaymentRequired("API keys need a SAAS or PAID plan; this partner is on the FREE plan".into()))
        }
    }
}

fn validated_name(name: &str) -> ApiResult<&str> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.contains('\0') {
        return Err(ApiError::Unprocessable("name must be 1 to 100 characters, not all blank, without NUL".into()));
    }
    Ok(name)
}

/// A new key's public client id: `key_` and 16 hex characters.
fn new_client_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("key_{}", &id[..16])
}

async fn issue(
    ctx: &RequestContext,
    partner_id: i64,
    created_by: Option<i64>,
    name: &str,
    scope: KeyScope,
    expires_at: Option<DateTime<Utc>>,
    rotated_from: Option<i64>,
) -> ApiResult<CreatedKey> {
    if repo::count_live(ctx, partner_id).await? >= MAX_LIVE_KEYS {
        return Err(ApiError::Conflict(format!(
            "a partner holds at most {MAX_LIVE_KEYS} live API keys; revoke one first"
        )));
    }
    let key = ApiKey::generate();
    let hash = key.hash().hex();
    let client_id = new_client_id();
    let row = repo::insert(
        ctx,
        NewKeyRow {
            partner_id,
            name,
            client_id: &client_id,
            key_hash: &hash,
            shown: key.shown(),
            scope,
            expires_at,
            created_by,
            rotated_from,
        },
    )
    .await?;
    Ok(CreatedKey { secret: key.expose().to_owned(), key: dto(row, None, Utc::now()) })
}

pub async fn create(ctx: &RequestContext, new: NewKey) -> ApiResult<CreatedKey> {
    let (partner_id, user_id) = manager(ctx)?;
    plan_allows_keys(ctx.plan())?;
    let name = validated_name(&new.name)?;
    if new.expires_at.is_some_and(|at| at <= Utc::now()) {
        return Err(ApiError::Unprocessable("expires_at must be in the future".into()));
    }
    issue(ctx, partner_id, user_id, name, new.scope, new.expires_at, None).await
}

pub async fn list(ctx: &RequestContext, sessions: &SessionCache) -> ApiResult<Vec<KeyDto>> {
    let (partner_id, _) = manager(ctx)?;
    let rows = repo::list(ctx, partner_id).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    // the gateways' reports; without Redis the list still answers, with Postgres's last use
    let reported = sessions.keys_last_used(&ids).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "could not read API keys' last use from redis");
        vec![None; ids.len()]
    });
    let now = Utc::now();
    Ok(rows.into_iter().zip(reported).map(|(row, used)| dto(row, used, now)).collect())
}

/// One of the caller's keys, locked, or 404 (another partner's key is not found either).
async fn owned(ctx: &RequestContext, partner_id: i64, id: i64) -> ApiResult<KeyRow> {
    repo::owned_for_update(ctx, partner_id, id).await?.ok_or_else(|| ApiError::not_found(format_args!("API key {id}")))
}

pub async fn rotate(ctx: &RequestContext, id: i64) -> ApiResult<CreatedKey> {
    let (partner_id, user_id) = manager(ctx)?;
    plan_allows_keys(ctx.plan())?;
    let old = owned(ctx, partner_id, id).await?;
    if status(&old, Utc::now()) != KeyStatus::Active {
        return Err(ApiError::Conflict(format!("API key {id} is no longer active; create a new key instead")));
    }
    issue(ctx, partner_id, user_id, &old.name, old.scope.0, old.expires_at, Some(old.id)).await
}

pub async fn revoke(ctx: &RequestContext, sessions: &SessionCache, id: i64) -> ApiResult<RevocationOutcome> {
    let (partner_id, _) = manager(ctx)?;
    let key = owned(ctx, partner_id, id).await?;
    repo::revoke(ctx, key.id).await?;
    // recorded before anyone is told
    ctx.pg.commit().await?;
    let Some(hash) = tenancy::KeyHash::from_hex(&key.key_hash) else {
        return Err(ApiError::Internal(anyhow::anyhow!("API key {} has an unreadable hash", key.id)));
    };
    match sessions.revoke_key(&hash).await {
        Ok(()) => {
            let cleared = ctx.postgres("api_key_revocation_propagated", async {
                Ok(repo::revocation_propagated(ctx.pg.pool(), key.id).await?)
            });
            if let Err(e) = cleared.await {
                // harmless: the propagator will revoke again (idempotent)
                tracing::warn!(error = %e, "could not clear the pending key revocation flag");
            }
            Ok(RevocationOutcome { revoked: true, propagated: true })
        }
        Err(e) => {
            metrics::counter!("api_key_revocation_fast_path_failures_total").increment(1);
            tracing::warn!(error = %e, "key revocation recorded in postgres; redis will be told by the propagator");
            Ok(RevocationOutcome { revoked: true, propagated: false })
        }
    }
}

/// The state of a presented key (the gateway's last tier). A live key is cached in Redis unless
/// a revocation's tombstone is there, and its use recorded.
pub async fn verify(ctx: &RequestContext, sessions: &SessionCache, presented: &str) -> ApiResult<KeyVerdict> {
    let key = match ApiKey::parse(presented) {
        Ok(key) => key,
        Err(e) => return Ok(e.into()),
    };
    let hash = key.hash();
    let Some((row, partner_active)) = repo::by_hash(ctx, &hash.hex()).await? else {
        return Ok(KeyVerdict::Unknown);
    };
    match status(&row, Utc::now()) {
        KeyStatus::Revoked => return Ok(KeyVerdict::Revoked),
        KeyStatus::Expired => return Ok(KeyVerdict::Expired),
        KeyStatus::Active if !partner_active => return Ok(KeyVerdict::PartnerInactive),
        KeyStatus::Active => {}
    }
    let info = ApiKeyInfo {
        key_id: row.id,
        client_id: row.client_id,
        partner_id: row.partner_id,
        user_id: row.created_by,
        name: row.name,
        scope: row.scope.0,
        expires_at: row.expires_at,
        key_hash: row.key_hash,
    };
    let pool = ctx.pg.pool().clone();
    let key_id = info.key_id;
    ctx.perform_after_commit(async move {
        if let Err(e) = repo::touch(&pool, key_id).await {
            tracing::warn!(error = %e, "could not record an API key's use");
        }
    });
    ctx.config.hooks.pause("api_key.verify.before_cache").await;
    // re-warm the cache the gateway missed, unless a revocation got there first
    match sessions.put_key(&hash, &info).await {
        Ok(Put::Stored) => Ok(KeyVerdict::Live(info)),
        Ok(Put::Revoked) => Ok(KeyVerdict::Revoked),
        Err(e) => {
            metrics::counter!("api_key_cache_failures_total").increment(1);
            tracing::warn!(error = %e, "could not cache the API key in redis");
            Ok(KeyVerdict::Live(info))
        }
    }
}
