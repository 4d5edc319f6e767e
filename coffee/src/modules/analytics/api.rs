//! `/coffee/analytics/{platform}/…`

use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::dao::{Granularity, Point};
use super::service::{self, Compared, Growth, PlatformMonth};
use crate::core::context::Ctx;
use crate::domain::{Id, Month, Platform};
use crate::error::{ApiResult, Json, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(timeseries))
        .routes(routes!(growth))
        .routes(routes!(compare))
        .routes(routes!(monthly_growth))
}

#[derive(Debug, Deserialize, IntoParams, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SeriesParams {
    /// YYYY-MM-DD
    #[param(format = Date)]
    pub from: String,
    /// YYYY-MM-DD
    #[param(format = Date)]
    pub to: String,
    #[serde(default)]
    pub granularity: Granularity,
    /// comma-separated subset of followers, following, posts, engagement_rate, avg_likes,
    /// avg_comments, avg_views (default: all)
    #[param(
        pattern = r"^(followers|following|posts|engagement_rate|avg_likes|avg_comments|avg_views)(,(followers|following|posts|engagement_rate|avg_likes|avg_comments|avg_views))*$"
    )]
    pub metrics: Option<String>,
}

const METRICS: &[&str] =
    &["followers", "following", "posts", "engagement_rate", "avg_likes", "avg_comments", "avg_views"];

/// A profile's daily series, or weekly/monthly (each bucket's last reported values).
#[utoipa::path(get, path = "/coffee/analytics/{platform}/{id}/timeseries", tag = "analytics",
    params(("platform" = Platform, Path), ("id" = i64, Path), SeriesParams),
    responses((status = 200, body = [Object]), (status = 400), (status = 404)))]
async fn timeseries(
    ctx: Ctx,
    Path((platform, id)): Path<(Platform, Id)>,
    Query(p): Query<SeriesParams>,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    let Id(id) = id;
    let (from, to) = service::range(&p.from, &p.to)?;
    let wanted: Vec<&str> = match &p.metrics {
        Some(list) => {
            let wanted: Vec<&str> = list.split(',').map(str::trim).collect();
            if let Some(bad) = wanted.iter().find(|m| !METRICS.contains(m)) {
                return Err(crate::error::ApiError::BadRequest(format!(
                    "unknown metric {bad:?}; known: {}",
                    METRICS.join(", ")
                )));
            }
            wanted
        }
        None => METRICS.to_vec(),
    };
    let points: Vec<Point> = service::series(&ctx, platform, id, from, to, p.granularity).await?;
    Ok(Json(
        points
            .into_iter()
            .map(|pt| {
                let full = serde_json::to_value(&pt).unwrap_or_default();
                let mut out = serde_json::Map::new();
                out.insert("date".into(), full["date"].clone());
                for m in &wanted {
                    out.insert((*m).into(), full[*m].clone());
                }
                serde_json::Value::Object(out)
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct RangeParams {
    /// YYYY-MM-DD
    #[param(format = Date)]
    pub from: String,
    /// YYYY-MM-DD
    #[param(format = Date)]
    pub to: String,
}

/// A profile's growth between two dates (absolute and percent).
#[utoipa::path(get, path = "/coffee/analytics/{platform}/{id}/growth", tag = "analytics",
    params(("platform" = Platform, Path), ("id" = i64, Path), RangeParams),
    responses((status = 200, body = Growth), (status = 400), (status = 404)))]
async fn growth(
    ctx: Ctx,
    Path((platform, id)): Path<(Platform, Id)>,
    Query(p): Query<RangeParams>,
) -> ApiResult<Json<Growth>> {
    let Id(id) = id;
    let (from, to) = service::range(&p.from, &p.to)?;
    Ok(Json(service::growth(&ctx, platform, id, from, to).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CompareParams {
    /// comma-separated profile ids (1 to 10)
    #[param(pattern = r"^[1-9][0-9]{0,17}(,[1-9][0-9]{0,17}){0,9}$")]
    pub ids: String,
    #[param(format = Date)]
    pub from: String,
    #[param(format = Date)]
    pub to: String,
}

/// Several profiles' growth side by side.
#[utoipa::path(get, path = "/coffee/analytics/{platform}/compare", tag = "analytics",
    params(("platform" = Platform, Path), CompareParams),
    responses((status = 200, body = [Compared]), (status = 400), (status = 404)))]
async fn compare(
    ctx: Ctx,
    Path(platform): Path<Platform>,
    Query(p): Query<CompareParams>,
) -> ApiResult<Json<Vec<Compared>>> {
    let ids = service::parse_ids(&p.ids)?;
    let (from, to) = service::range(&p.from, &p.to)?;
    Ok(Json(service::compare(&ctx, platform, &ids, from, to).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MonthsParams {
    /// YYYY-MM
    #[param(value_type = String, pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub from: Month,
    /// YYYY-MM
    #[param(value_type = String, pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub to: Month,
}

/// A platform's audience month by month (from the monthly aggregates).
#[utoipa::path(get, path = "/coffee/analytics/{platform}/monthly-growth", tag = "analytics",
    params(("platform" = Platform, Path), MonthsParams),
    responses((status = 200, body = [PlatformMonth]), (status = 400)))]
async fn monthly_growth(
    ctx: Ctx,
    Path(platform): Path<Platform>,
    Query(p): Query<MonthsParams>,
) -> ApiResult<Json<Vec<PlatformMonth>>> {
    Ok(Json(service::monthly_growth(&ctx, platform, p.from.first_day(), p.to.first_day()).await?))
}
