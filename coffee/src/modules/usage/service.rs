//! Usage accounting inside the request's transaction: a view that is refused (402) or whose
//! request later fails leaves no trace.

use chrono::{Datelike, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::core::context::RequestContext;
use crate::domain::Platform;
use crate::error::{ApiError, ApiResult};

fn this_month() -> NaiveDate {
    let today = Utc::now().date_naive();
    NaiveDate::from_ymd_opt(today.year(), today.month(), 1).expect("first of month")
}

/// The quota of distinct profiles per month, or `None` when the plan is unlimited.
fn quota(ctx: &RequestContext, free_quota: u32) -> Option<u32> {
    (!ctx.plan().sees_premium_fields()).then_some(free_quota)
}

/// Records that the partner opened a profile: the page track and the activity log are written
/// in the request's transaction (so a failed request leaves no trace). Requests without a
/// partner (internal calls) are not counted.
///
/// FREE plans have a quota: their month's usage row is locked (`FOR UPDATE`) so concurrent
/// views cannot both squeeze past it, and a profile not yet opened this month beyond the quota
/// is a 402 (re-opening one already seen stays free). Unlimited plans skip the lock: their
/// monthly counters are bumped by one autocommit statement after the request commits, so
/// concurrent views of one partner do not queue on its counter row for a whole request.
pub async fn record_profile_view(ctx: &RequestContext, platform: Platform, profile_id: i64) -> ApiResult<()> {
    let Some(partner_id) = ctx.partner_id() else { return Ok(()) };
    let month = this_month();
    let mut tx = ctx.pg.tx().await?;

    let limit = quota(ctx, ctx.config.free_profile_view_quota);
    if let Some(limit) = limit {
        sqlx::query("INSERT INTO partner_usage (partner_id, month) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(partner_id)
            .bind(month)
            .execute(&mut *tx)
            .await?;
        let unique: i32 = sqlx::query_scalar(
            "SELECT unique_profiles FROM partner_usage WHERE partner_id = $1 AND month = $2 FOR UPDATE",
        )
        .bind(partner_id)
        .bind(month)
        .fetch_one(&mut *tx)
        .await?;
        let seen: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM partner_profile_page_track WHERE partner_id = $1 AND platform = $2 AND profile_id = $3 AND month = $4)",
        )
        .bind(partner_id)
        .bind(platform.as_str())
        .bind(profile_id)
        .bind(month)
        .fetch_one(&mut *tx)
        .await?;
        if !seen && unique as u32 >= limit {
            return Err(ApiError::PaymentRequired(format!(
                "the FREE plan includes {limit} distinct profiles per month and this month's are used; upgrade to SAAS or PAID to open more"
            )));
        }
    }
    // xmax = 0 only for a freshly inserted row: the partner's first view of this profile this month
    let first_view: bool = sqlx::query_scalar(
        "INSERT INTO partner_profile_page_track (partner_id, user_id, platform, profile_id, month) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (partner_id, platform, profile_id, month) \
         DO UPDATE SET view_count = partner_profile_page_track.view_count + 1, last_viewed_at = now() \
         RETURNING (xmax = 0)",
    )
    .bind(partner_id)
    .bind(ctx.user_id())
    .bind(platform.as_str())
    .bind(profile_id)
    .bind(month)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO activity_tracker (partner_id, user_id, activity_type, entity_type, entity_id, platform) \
         VALUES ($1, $2, 'PROFILE_VIEW', 'profile', $3, $4)",
    )
    .bind(partner_id)
    .bind(ctx.user_id())
    .bind(profile_id)
    .bind(platform.as_str())
    .execute(&mut *tx)
    .await?;

    const COUNT: &str = "INSERT INTO partner_usage (partner_id, month, profile_views, unique_profiles) VALUES ($1, $2, 1, $3) \
                         ON CONFLICT (partner_id, month) DO UPDATE SET profile_views = partner_usage.profile_views + 1, \
                         unique_profiles = partner_usage.unique_profiles + EXCLUDED.unique_profiles";
    let unique = i32::from(first_view);
    if limit.is_some() {
        // the row is locked by this transaction already
        sqlx::query(COUNT).bind(partner_id).bind(month).bind(unique).execute(&mut *tx).await?;
    } else {
        let pool = ctx.pg.pool().clone();
        ctx.perform_after_commit(async move {
            if let Err(e) = sqlx::query(COUNT).bind(partner_id).bind(month).bind(unique).execute(&pool).await {
                // the page track and activity log hold the view; only the monthly counter missed it
                tracing::warn!(error = %e, partner_id, "could not count a profile view in partner_usage");
            }
        });
    }
    Ok(())
}

/// Counts a discovery search for the partner.
pub async fn record_search(ctx: &RequestContext) -> ApiResult<()> {
    let Some(partner_id) = ctx.partner_id() else { return Ok(()) };
    let mut tx = ctx.pg.tx().await?;
    sqlx::query(
        "INSERT INTO partner_usage (partner_id, month, searches) VALUES ($1, $2, 1) \
         ON CONFLICT (partner_id, month) DO UPDATE SET searches = partner_usage.searches + 1",
    )
    .bind(partner_id)
    .bind(this_month())
    .execute(&mut *tx)
    .await?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageDto {
    /// first day of the month
    pub month: NaiveDate,
    pub plan: String,
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
    let mut tx = ctx.pg.read().await?;
    let row: Option<(i32, i32, i32)> = sqlx::query_as(
        "SELECT profile_views, unique_profiles, searches FROM partner_usage WHERE partner_id = $1 AND month = $2",
    )
    .bind(partner_id)
    .bind(month)
    .fetch_optional(&mut *tx)
    .await?;
    let (profile_views, unique_profiles, searches) = row.unwrap_or_default();
    let profile_quota = quota(ctx, ctx.config.free_profile_view_quota);
    Ok(UsageDto {
        month,
        plan: ctx.plan().to_string(),
        profile_views,
        unique_profiles,
        searches,
        profile_quota,
        profiles_remaining: profile_quota.map(|q| q.saturating_sub(unique_profiles as u32)),
    })
}
