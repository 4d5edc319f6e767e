//! `/partners/{id}`

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, PartnerDetail};
use crate::core::context::Ctx;
use crate::domain::Id;
use crate::error::{ApiResult, Json, Path};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_partner))
}

/// A partner with its contracts and current plan.
#[utoipa::path(get, path = "/partners/{id}", tag = "partners", params(("id" = i64, Path)),
    responses((status = 200, body = PartnerDetail), (status = 404)))]
async fn get_partner(ctx: Ctx, Path(Id(id)): Path<Id>) -> ApiResult<Json<PartnerDetail>> {
    Ok(Json(service::get(&ctx, id).await?))
}
