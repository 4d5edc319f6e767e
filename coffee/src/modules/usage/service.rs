//! Usage accounting. FREE plans are checked against their quota inside the request's
//! transaction (a refused view, or one whose request later fails, leaves no trace); the views
//! and searches of unlimited plans go through the group-committed [`UsageLog`].

use chrono::{NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::log::{month_of, UsageEvent, UsageLog};
use super::repo;
use crate::core::context::RequestContext;
use crate::core::observe::Store;
use crate::domain::Platform;
use crate::error::{ApiError, ApiResult};

fn this_month() -> NaiveDate {
    month_of(Utc::now())
}

/// The quota of distinct profiles per month, or `None` when the plan is unlimited.
fn quota(ctx: &RequestContext, free_quota: u32) -> Option<u32> {
    (!ctx.plan().sees_premium_fields()).then_some(free_quota)
}

/// Records that the partner opened a profile. Requests without a partner (internal calls)
/// are not counted.
///
/// Unlimited plans: the view goes to the usage log and is committed before this returns.
/// FREE plans have a quota: their month's usage row is locked (`FOR UPDATE`) inside the
/// request's transaction so concurrent views cannot both squeeze past it, and a profile not
/// yet opened this month beyond the quota is a 402 (re-opening one already seen stays free);
/// the page track, activity row and counters are written in that transaction.
pub async fn record_profile_view(
    ctx: &RequestContext,
    log: &UsageLog,
    platform: Platform,
    profile_id: i64,
) -> ApiResult<()> {
    let Some(partner_id) = ctx.partner_id() else { return Ok(()) };
    let Some(limit) = quota(ctx, ctx.config.free_profile_view_quota) else {
        let event = UsageEvent::ProfileView {
            partner_id,
            user_id: ctx.user_id(),
            api_client: ctx.api_client().map(str::to_owned),
            platform,
            profile_id,
            at: Utc::now(),
        };
        // waiting for the log must not pin one of the pool's connections
        ctx.pg.release_reader().await;
        return log.record(event).await;
    };
    // only FREE partners have a quota, and their API keys are refused at the edge, so no view
    // below is made with a key
    let month = this_month();
    ctx.timed(Store::Postgres, "record_view", async {
        let mut tx = ctx.pg.tx().await?;
        let unique = repo::lock_month(&mut tx, partner_id, month).await?;
        let seen = repo::seen(&mut tx, partner_id, platform, profile_id, month).await?;
        if !seen && unique as u32 >= limit {
            return Err(ApiError::PaymentRequired(format!(
                "the FREE plan includes {limit} distinct profiles per month and this month's are used; upgrade to SAAS or PAID to open more"
            )));
        }
        repo::record_view(&mut tx, partner_id, ctx.user_id(), platform, profile_id, month).await?;
        Ok(())
    })
    .await
}

/// Counts a discovery search for the partner (through the usage log; FREE plans have no
/// search quota either).
pub async fn record_search(ctx: &RequestContext, log: &UsageLog) -> ApiResult<()> {
    let Some(partner_id) = ctx.partner_id() else { return Ok(()) };
    ctx.pg.release_reader().await;
    log.record(UsageEvent::Search { partner_id, user_id: ctx.user_id(), at: Utc::now() }).await
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageDto {
    /// first day of the month
    pub month: NaiveDate,
    pub plan: tenancy::PlanType,
    pub profile_views: i32,
    pub unique_profiles: i32,
    pub searches: i32,
    /// distinct profiles allowed per month; null when unlimited
    pub profile_quota: Option<u32>,
    pub profiles_remaining: Option<u32>,
}

pub async fn current(ctx: &RequestContext) -> ApiResult<UsageDto> {
    let partner_id = ctx.require_partner()?;
    let month = this_month();
    let (profile_views, unique_profiles, searches) = ctx
        .postgres("usage_month", async { Ok(repo::month(&mut *ctx.pg.read().await?, partner_id, month).await?) })
        .await?;
    let profile_quota = quota(ctx, ctx.config.free_profile_view_quota);
    Ok(UsageDto {
        month,
        plan: ctx.plan(),
        profile_views,
        unique_profiles,
        searches,
        profile_quota,
        profiles_remaining: profile_quota.map(|q| q.saturating_sub(unique_profiles as u32)),
    })
}
