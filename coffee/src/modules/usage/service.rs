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

/// Records that the partner opened a profile. Requests without a partner (internal calls) are
/// not counted. A FREE partner past its quota gets a 402 for profiles it has not opened yet
/// this month; re-opening one it already saw stays free.
pub async fn record_profile_view(ctx: &RequestContext, platform: Platform, profile_id: i64) -> ApiResult<()> {
    let Some(partner_id) = ctx.partner_id() else { return Ok(()) };
    let month = this_month();
    let free_quota = ctx.config.free_profile_view_quota;
    let mut tx = ctx.pg.tx().await?;

    // lock this partner's month so concurrent views cannot both squeeze past the quota
    sqlx::query("INSERT INTO partner_usage (partner_id, month) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(partner_id)
        .bind(month)
        .execute(&mut *tx)
        .await?;
    let unique: i32 =
        sqlx::query_scalar("SELECT unique_profiles FROM partner_usage WHERE partner_id = $1 AND month = $2 FOR UPDATE")
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
    if let Some(limit) = quota(ctx, free_quota) {
        if !seen && unique as u32 >= limit {
            return Err(ApiError::PaymentRequired(format!(
                "the FREE plan includes {limit} distinct profiles per month and this month's are used; upgrade to SAAS or PAID to open more"
            )));
        }
    }
    sqlx::query(
        "INSERT INTO partner_profile_page_track (partner_id, user_id, platform, profile_id, month) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (partner_id, platform, profile_id, month) \
         DO UPDATE SET view_count = partner_profile_page_track.view_count + 1, last_viewed_at = now()",
    )
    .bind(partner_id)
    .bind(ctx.user_id())
    .bind(platform.as_str())
    .bind(profile_id)
    .bind(month)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE partner_usage SET profile_views = profile_views + 1, unique_profiles = unique_profiles + $3 WHERE partner_id = $1 AND month = $2")
        .bind(partner_id)
        .bind(month)
        .bind(i32::from(!seen))
        .execute(&mut *tx)
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
    let mut tx = ctx.pg.tx().await?;
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
