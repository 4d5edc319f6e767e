//! Analytics rules: validated ranges (at most 3 years, `from` ≤ `to`), at most 10 profiles per
//! compare, and growth expressed both absolutely and in percent.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

use super::dao::{AnalyticsDao, ChAnalyticsDao, Granularity, GrowthRow, Metric, MonthRow, MonthlyStat, Point};
use crate::core::context::RequestContext;
use crate::domain::Platform;
use crate::error::{ApiError, ApiResult};
use crate::modules::profile::service as profiles;

pub const MAX_RANGE_DAYS: i64 = 3 * 366;
pub const MAX_COMPARE: usize = 10;

/// Parses `YYYY-MM-DD`, naming the parameter on failure.
pub fn date(name: &str, value: &str) -> ApiResult<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .map_err(|_| ApiError::BadRequest(format!("{name} must be a date like 2026-01-31, got {value:?}")))
}

pub fn range(from: &str, to: &str) -> ApiResult<(NaiveDate, NaiveDate)> {
    let (from, to) = (date("from", from)?, date("to", to)?);
    if from > to {
        return Err(ApiError::BadRequest("from must not be after to".into()));
    }
    if (to - from).num_days() > MAX_RANGE_DAYS {
        return Err(ApiError::BadRequest(format!("a range spans at most {MAX_RANGE_DAYS} days")));
    }
    Ok((from, to))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Growth {
    pub profile_id: i64,
    pub first_date: NaiveDate,
    pub last_date: NaiveDate,
    pub followers_start: u64,
    pub followers_end: u64,
    pub followers_change: i64,
    /// percent; null when the start was 0
    pub followers_change_pct: Option<f64>,
    pub engagement_rate_start: f32,
    pub engagement_rate_end: f32,
    pub engagement_rate_change: f32,
}

impl From<GrowthRow> for Growth {
    fn from(r: GrowthRow) -> Self {
        let change = r.followers_end as i64 - r.followers_start as i64;
        Self {
            profile_id: r.profile_id as i64,
            first_date: r.first_date,
            last_date: r.last_date,
            followers_start: r.followers_start,
            followers_end: r.followers_end,
            followers_change: change,
            followers_change_pct: (r.followers_start > 0).then(|| change as f64 / r.followers_start as f64 * 100.0),
            engagement_rate_start: r.engagement_start,
            engagement_rate_end: r.engagement_end,
            engagement_rate_change: r.engagement_end - r.engagement_start,
        }
    }
}

async fn known(ctx: &RequestContext, platform: Platform, id: i64) -> ApiResult<()> {
    if profiles::exists(ctx, platform, id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("{} profile {id}", platform.as_str())))
    }
}

pub async fn series(
    ctx: &RequestContext,
    platform: Platform,
    id: i64,
    from: NaiveDate,
    to: NaiveDate,
    g: Granularity,
) -> ApiResult<Vec<Point>> {
    let points = ChAnalyticsDao.series(ctx, platform, id, from, to, g).await?;
    if points.is_empty() {
        known(ctx, platform, id).await?;
    }
    Ok(points)
}

pub async fn growth(
    ctx: &RequestContext,
    platform: Platform,
    id: i64,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Growth> {
    match ChAnalyticsDao.growth(ctx, platform, &[id], from, to).await?.pop() {
        Some(row) => Ok(row.into()),
        None => {
            known(ctx, platform, id).await?;
            Err(ApiError::NotFound(format!("no data for {} profile {id} between {from} and {to}", platform.as_str())))
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Compared {
    pub profile: profiles::ProfileDto,
    /// null when the profile has no data in the range
    pub growth: Option<Growth>,
}

pub fn parse_ids(raw: &str) -> ApiResult<Vec<i64>> {
    let ids: Vec<i64> = raw
        .split(',')
        .map(|s| match s.parse::<crate::domain::Id>() {
            Ok(crate::domain::Id(id)) if id > 0 => Ok(id),
            Ok(_) => Err(ApiError::BadRequest(format!("ids: {s:?} is not a profile id"))),
            Err(e) => Err(ApiError::BadRequest(format!("ids: {e}"))),
        })
        .collect::<ApiResult<_>>()?;
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() != ids.len() {
        return Err(ApiError::BadRequest("ids: each profile id may appear once".into()));
    }
    if unique.is_empty() || unique.len() > MAX_COMPARE {
        return Err(ApiError::BadRequest(format!("ids takes 1 to {MAX_COMPARE} distinct profile ids")));
    }
    Ok(ids)
}

pub async fn compare(
    ctx: &RequestContext,
    platform: Platform,
    ids: &[i64],
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<Compared>> {
    let mut found = profiles::by_ids(ctx, platform, ids).await?;
    if found.len() != ids.len() {
        let missing: Vec<String> =
            ids.iter().filter(|i| !found.iter().any(|p| p.id == **i)).map(i64::to_string).collect();
        return Err(ApiError::NotFound(format!("{} profiles not found: {}", platform.as_str(), missing.join(", "))));
    }
    let mut growth: Vec<Growth> =
        ChAnalyticsDao.growth(ctx, platform, ids, from, to).await?.into_iter().map(Growth::from).collect();
    Ok(ids
        .iter()
        .map(|id| {
            let profile = found.remove(found.iter().position(|p| p.id == *id).expect("checked above"));
            let g = growth.iter().position(|g| g.profile_id == *id).map(|i| growth.remove(i));
            Compared { profile, growth: g }
        })
        .collect())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PlatformMonth {
    pub month: NaiveDate,
    pub profiles: u64,
    pub followers_start: u64,
    pub followers_end: u64,
    pub followers_change_pct: Option<f64>,
}

/// A month's `limit` top profiles of `platform` by `metric`, optionally within one category,
/// from the monthly aggregates (the leaderboard's ranking).
pub async fn top(
    ctx: &RequestContext,
    platform: Platform,
    month: NaiveDate,
    metric: Metric,
    category: Option<&str>,
    limit: u32,
) -> ApiResult<Vec<MonthlyStat>> {
    Ok(ChAnalyticsDao.top(ctx, platform, month, metric, category, limit).await?)
}

pub async fn monthly_growth(
    ctx: &RequestContext,
    platform: Platform,
    from: NaiveDate,
    to: NaiveDate,
) -> ApiResult<Vec<PlatformMonth>> {
    if from > to || (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32 > 36 {
        return Err(ApiError::BadRequest("from must not be after to, and the range spans at most 36 months".into()));
    }
    let rows: Vec<MonthRow> = ChAnalyticsDao.monthly_growth(ctx, platform, from, to).await?;
    Ok(rows
        .into_iter()
        .map(|r| PlatformMonth {
            month: r.month,
            profiles: r.profiles,
            followers_start: r.followers_start,
            followers_end: r.followers_end,
            followers_change_pct: (r.followers_start > 0)
                .then(|| (r.followers_end as f64 - r.followers_start as f64) / r.followers_start as f64 * 100.0),
        })
        .collect())
}
