//! `/coffee/api-keys/…` (a partner's users manage keys) and `/identity/api-keys/verify` (the
//! gateway checks a presented key).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tenancy::KeyVerdict;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, CreatedKey, KeyDto, NewKey, RevocationOutcome};
use crate::core::context::Ctx;
use crate::domain::Id;
use crate::error::{ApiResult, Json, Path};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(revoke))
        .routes(routes!(rotate))
        .routes(routes!(verify))
}

/// The partner's API keys, newest first, revoked and expired ones included (never a secret).
#[utoipa::path(get, path = "/coffee/api-keys", tag = "api-keys",
    responses((status = 200, body = Vec<KeyDto>), (status = 401), (status = 403)))]
async fn list(State(state): State<AppState>, ctx: Ctx) -> ApiResult<Json<Vec<KeyDto>>> {
    Ok(Json(service::list(&ctx, &state.sessions).await?))
}

/// Creates a key. The answer holds the secret, which is never shown again.
#[utoipa::path(post, path = "/coffee/api-keys", tag = "api-keys", request_body = NewKey,
    responses((status = 201, body = CreatedKey), (status = 401), (status = 402), (status = 403), (status = 409), (status = 422)))]
async fn create(ctx: Ctx, Json(new): Json<NewKey>) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    Ok((StatusCode::CREATED, Json(service::create(&ctx, new).await?)))
}

/// Revokes a key at once, at every gateway. 204 when Redis and the gateways were told; 202 when
/// only Postgres was (they are told shortly).
#[utoipa::path(delete, path = "/coffee/api-keys/{id}", tag = "api-keys", params(("id" = i64, Path)),
    responses((status = 204), (status = 202, body = RevocationOutcome), (status = 401), (status = 403), (status = 404)))]
async fn revoke(State(state): State<AppState>, ctx: Ctx, Path(Id(id)): Path<Id>) -> ApiResult<Response> {
    let outcome = service::revoke(&ctx, &state.sessions, id).await?;
    Ok(if outcome.propagated {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (StatusCode::ACCEPTED, Json(outcome)).into_response()
    })
}

/// Issues a replacement with the key's name, scope and expiry. The old key keeps working until
/// it is revoked.
#[utoipa::path(post, path = "/coffee/api-keys/{id}/rotate", tag = "api-keys", params(("id" = i64, Path)),
    responses((status = 201, body = CreatedKey), (status = 401), (status = 402), (status = 403), (status = 404), (status = 409)))]
async fn rotate(ctx: Ctx, Path(Id(id)): Path<Id>) -> ApiResult<(StatusCode, Json<CreatedKey>)> {
    Ok((StatusCode::CREATED, Json(service::rotate(&ctx, id).await?)))
}

/// A key to check.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyRequest {
    pub key: String,
}

/// The state of a presented key: live (with its partner, client and scope) or why not.
#[utoipa::path(post, path = "/identity/api-keys/verify", tag = "identity", request_body = KeyRequest,
    responses((status = 200, body = KeyVerdict), (status = 422)))]
async fn verify(State(state): State<AppState>, ctx: Ctx, Json(req): Json<KeyRequest>) -> ApiResult<Json<KeyVerdict>> {
    Ok(Json(service::verify(&ctx, &state.sessions, &req.key).await?))
}
