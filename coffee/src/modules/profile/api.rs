//! `/coffee/profiles/{platform}/…`

use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, ProfileDto};
use crate::core::context::Ctx;
use crate::core::dao::SearchRequest;
use crate::domain::{Handle, Id, Page, Platform};
use crate::error::{ApiError, ApiResult, Json, Path};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_profile)).routes(routes!(get_by_handle)).routes(routes!(search))
}

/// A profile by id. Counts as a profile view (FREE plans have a monthly quota: 402 past it).
#[utoipa::path(get, path = "/coffee/profiles/{platform}/{id}", tag = "profiles",
    params(("platform" = Platform, Path), ("id" = i64, Path)),
    responses((status = 200, body = ProfileDto), (status = 400), (status = 402), (status = 404)))]
async fn get_profile(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((platform, id)): Path<(Platform, Id)>,
) -> ApiResult<Json<ProfileDto>> {
    let Id(id) = id;
    Ok(Json(service::open(&ctx, &state.usage_log, platform, id).await?))
}

/// A profile by handle (case-insensitive; a leading `@` is dropped), as its platform allows
/// handles: Instagram 1–30 of `A-Z a-z 0-9 . _`, YouTube 3–30 of those and `-`. Counts as a
/// profile view.
#[utoipa::path(get, path = "/coffee/profiles/{platform}/byhandle/{handle}", tag = "profiles",
    params(("platform" = Platform, Path), ("handle" = String, Path)),
    responses((status = 200, body = ProfileDto), (status = 400), (status = 402), (status = 404)))]
async fn get_by_handle(
    ctx: Ctx,
    State(state): State<AppState>,
    Path((platform, handle)): Path<(Platform, String)>,
) -> ApiResult<Json<ProfileDto>> {
    let handle = Handle::parse(platform, &handle).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Json(service::open_by_handle(&ctx, &state.usage_log, &handle).await?))
}

/// Discovery: filters on whitelisted fields (followers, engagement_rate, avg_likes, category,
/// country, language, handle, name, text), a sort, and a page (size at most 100).
#[utoipa::path(post, path = "/coffee/profiles/{platform}/search", tag = "profiles",
    params(("platform" = Platform, Path)), request_body = SearchRequest,
    responses((status = 200, body = Page<ProfileDto>), (status = 400), (status = 422)))]
async fn search(
    ctx: Ctx,
    State(state): State<AppState>,
    Path(platform): Path<Platform>,
    Json(req): Json<SearchRequest>,
) -> ApiResult<Json<Page<ProfileDto>>> {
    Ok(Json(service::search(&ctx, &state.usage_log, platform, &req).await?))
}
