//! `/identity/login`, `/identity/logout`, `/identity/verify`

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, LoginRequest, LoginResponse, LogoutOutcome, SessionInfo, TokenRequest};
use crate::core::context::Ctx;
use crate::error::{ApiResult, Json};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login)).routes(routes!(logout)).routes(routes!(verify))
}

/// Exchanges email and password for a session token.
#[utoipa::path(post, path = "/identity/login", tag = "identity", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401), (status = 422)))]
async fn login(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(req): Json<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    Ok(Json(service::login(&ctx, &state.tokens, &state.sessions, req).await?))
}

/// Ends a session everywhere: Postgres, Redis, and (by pub/sub) every gateway's cache. 204 when
/// all of them were told; 202 when only Postgres was (Redis unreachable: it is told shortly).
#[utoipa::path(post, path = "/identity/logout", tag = "identity", request_body = TokenRequest,
    responses((status = 204), (status = 202, body = LogoutOutcome), (status = 401), (status = 503)))]
async fn logout(State(state): State<AppState>, ctx: Ctx, Json(req): Json<TokenRequest>) -> ApiResult<Response> {
    let outcome = service::logout(&ctx, &state.tokens, &state.sessions, req).await?;
    Ok(if outcome.propagated {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (StatusCode::ACCEPTED, Json(outcome)).into_response()
    })
}

/// Checks a token against its stored session.
#[utoipa::path(post, path = "/identity/verify", tag = "identity", request_body = TokenRequest,
    responses((status = 200, body = SessionInfo), (status = 401)))]
async fn verify(
    State(state): State<AppState>,
    ctx: Ctx,
    Json(req): Json<TokenRequest>,
) -> ApiResult<Json<SessionInfo>> {
    Ok(Json(service::verify(&ctx, &state.tokens, &state.sessions, req).await?))
}
