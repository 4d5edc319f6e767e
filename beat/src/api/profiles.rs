//! `GET /profiles/{platform}/byhandle/{handle}`: the stored creator, refreshed first when it is
//! missing, older than `REFRESH_MAX_AGE`, or `force_refresh` is asked. A `full_refresh`
//! (profile and posts) passes the stacked refresh limit (daily, per minute, per handle) and
//! answers 429 past it; a basic one (profile only) is bounded by the sources' own limits.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use domain::{Handle, Platform};
use platform::extract::{Path, Query};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult};
use crate::pipeline::repo::StoredProfile;
use crate::service::profiles;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(by_handle))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
struct Refresh {
    /// Fetch posts too (passes the stacked refresh limit).
    #[serde(default)]
    full_refresh: bool,
    /// Refresh even when the stored profile is fresh.
    #[serde(default)]
    force_refresh: bool,
}

/// A creator by handle, refreshed from the sources when stale.
#[utoipa::path(get, path = "/profiles/{platform}/byhandle/{handle}", tag = "profiles",
    params(("platform" = String, Path, description = "instagram or youtube", pattern = "^(instagram|youtube)$"),
        ("handle" = String, Path), Refresh),
    responses(
        (status = 200, body = StoredProfile),
        (status = 400, description = "unknown platform or invalid handle"),
        (status = 404, description = "no such creator"),
        (status = 429, description = "over the stacked refresh limit (the body existing clients read); see Retry-After",
            body = crate::error::ConcurrencyLimited),
        (status = 502, description = "every source failed"),
        (status = 503, description = "every source is throttled; see Retry-After"),
    ))]
async fn by_handle(
    State(state): State<AppState>,
    Path((platform, handle)): Path<(String, String)>,
    Query(refresh): Query<Refresh>,
) -> ApiResult<Response> {
    let platform: Platform =
        platform.parse().map_err(|e: domain::UnknownPlatform| ApiError::BadRequest(e.to_string()))?;
    let handle = Handle::parse(platform, &handle).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let asked = profiles::Refresh { full: refresh.full_refresh, force: refresh.force_refresh };
    Ok(match profiles::by_handle(&state, &handle, asked).await? {
        (profile, Some(limit)) => (limit, axum::Json(profile)).into_response(),
        (profile, None) => axum::Json(profile).into_response(),
    })
}
