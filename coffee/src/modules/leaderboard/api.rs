//! `/coffee/leaderboard/{platform}`

use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, Leaderboard};
use crate::core::context::Ctx;
use crate::domain::{CategorySlug, Month, Platform};
use crate::error::{ApiResult, Json, Path, Query};
use crate::modules::analytics::dao::Metric;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(leaderboard))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LeaderboardParams {
    /// YYYY-MM
    #[param(value_type = String, pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
    pub month: Month,
    /// followers (default), engagement_rate, views or follower_growth
    #[serde(default)]
    #[param(value_type = Option<String>, pattern = r"^(followers|engagement_rate|views|follower_growth)$")]
    pub metric: Metric,
    /// a category slug, e.g. fashion
    #[param(value_type = Option<String>, pattern = r"^[a-z0-9_-]{1,63}$")]
    pub category: Option<CategorySlug>,
    /// 1 to 100 (default 50)
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A month's top profiles on a platform.
#[utoipa::path(get, path = "/coffee/leaderboard/{platform}", tag = "leaderboard",
    params(("platform" = Platform, Path), LeaderboardParams),
    responses((status = 200, body = Leaderboard), (status = 400)))]
async fn leaderboard(
    ctx: Ctx,
    Path(platform): Path<Platform>,
    Query(p): Query<LeaderboardParams>,
) -> ApiResult<Json<Leaderboard>> {
    Ok(Json(service::monthly(&ctx, platform, p.month, p.metric, p.category.as_ref(), p.limit).await?))
}
