//! `/coffee/usage`

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, UsageDto};
use crate::core::context::Ctx;
use crate::error::{ApiResult, Json};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(usage))
}

/// The calling partner's usage this month, with its quota when the plan has one.
#[utoipa::path(get, path = "/coffee/usage", tag = "usage", responses((status = 200, body = UsageDto), (status = 401)))]
async fn usage(ctx: Ctx) -> ApiResult<Json<UsageDto>> {
    Ok(Json(service::current(&ctx).await?))
}
