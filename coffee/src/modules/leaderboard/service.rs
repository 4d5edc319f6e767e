//! Leaderboard rules: 1–100 rows of a month's top profiles by a metric, optionally within one
//! category (the month and the category slug arrive parsed, see [`crate::domain`]); each row
//! joined with its profile (premium fields gated by plan).

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::core::context::RequestContext;
use crate::domain::{CategorySlug, Month, Platform};
use crate::error::{ApiError, ApiResult};
use crate::modules::analytics::dao::Metric;
use crate::modules::analytics::service as analytics;
use crate::modules::profile::service::{self as profiles, ProfileDto};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 100;

#[derive(Debug, Serialize, ToSchema)]
pub struct Entry {
    pub rank: u32,
    pub profile: ProfileDto,
    /// the ranking metric's value
    pub value: f64,
    pub category: String,
    pub followers_start: u64,
    pub followers_end: u64,
    pub follower_growth: i64,
    pub follower_growth_pct: Option<f64>,
    pub engagement_rate: f32,
    pub avg_views: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Leaderboard {
    pub platform: Platform,
    pub month: NaiveDate,
    pub metric: Metric,
    pub category: Option<String>,
    pub entries: Vec<Entry>,
}

pub async fn monthly(
    ctx: &RequestContext,
    platform: Platform,
    month: Month,
    metric: Metric,
    category: Option<&CategorySlug>,
    limit: Option<u32>,
) -> ApiResult<Leaderboard> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > MAX_LIMIT {
        return Err(ApiError::BadRequest(format!("limit must be between 1 and {MAX_LIMIT}")));
    }
    let (month, category) = (month.first_day(), category.map(CategorySlug::as_str));
    let stats = analytics::top(ctx, platform, month, metric, category, limit).await?;
    let ids: Vec<i64> = stats.iter().map(|s| s.profile_id as i64).collect();
    let mut found = profiles::by_ids(ctx, platform, &ids).await?;
    let entries = stats
        .into_iter()
        .filter_map(|s| {
            // a profile deleted from Postgres since the month was aggregated drops out
            let profile = found.iter().position(|p| p.id == s.profile_id as i64).map(|i| found.swap_remove(i))?;
            let growth = s.followers_end as i64 - s.followers_start as i64;
            let value = match metric {
                Metric::Followers => s.followers_end as f64,
                Metric::EngagementRate => f64::from(s.engagement_rate),
                Metric::Views => s.avg_views,
                Metric::FollowerGrowth => growth as f64,
            };
            Some(Entry {
                rank: 0,
                profile,
                value,
                category: s.category,
                followers_start: s.followers_start,
                followers_end: s.followers_end,
                follower_growth: growth,
                follower_growth_pct: (s.followers_start > 0).then(|| growth as f64 / s.followers_start as f64 * 100.0),
                engagement_rate: s.engagement_rate,
                avg_views: s.avg_views,
            })
        })
        .enumerate()
        .map(|(i, mut e)| {
            e.rank = i as u32 + 1;
            e
        })
        .collect();
    Ok(Leaderboard { platform, month, metric, category: category.map(str::to_owned), entries })
}
