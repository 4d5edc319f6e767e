//! The auth middleware, as the seed's `middleware/auth.go`: every request except identity's
//! own (login, logout, verify) must carry `Authorization: Bearer <token>`. The token's
//! signature and expiry are checked here; the session's liveness through the session tiers;
//! the partner's plan through the plan resolver. Whatever the client sent as tenant headers
//! (`x-bb-*`) is stripped, and the trusted values are injected for the modules: partner,
//! account, plan, and the downstream `Authorization` (`userId~userName~isLoggedIn~accountId:`).
//! The client's own device and client ids pass through when well-formed.

pub mod token;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tenancy::{DownstreamAuth, TenantIdentity};

use crate::error::GatewayError;
use crate::state::AppState;

/// Paths served without a session: identity authenticates these itself.
fn is_public(path: &str) -> bool {
    path.starts_with("/identity/")
}

/// The client-describing headers that survive stripping, if well-formed.
fn client_headers(headers: &HeaderMap) -> TenantIdentity {
    let mut only_client = HeaderMap::new();
    for name in [tenancy::DEVICE_ID, tenancy::CLIENT_ID, tenancy::CLIENT_TYPE] {
        if let Some(v) = headers.get(&name) {
            only_client.insert(name, v.clone());
        }
    }
    TenantIdentity::from_headers(&only_client).unwrap_or_default()
}

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let mut identity = client_headers(req.headers());
    let removed = tenancy::strip_tenant_headers(req.headers_mut());
    if removed > 0 {
        metrics::counter!("gateway_spoofed_tenant_headers_total").increment(removed as u64);
    }
    if is_public(req.uri().path()) {
        req.headers_mut().remove(axum::http::header::AUTHORIZATION);
        identity.write_headers(req.headers_mut());
        return next.run(req).await;
    }
    match caller(&state, req.headers()).await {
        Ok(caller) => {
            identity.partner_id = Some(caller.partner_id);
            identity.account_id = caller.account_id;
            identity.plan_type = Some(caller.plan);
            identity.auth = Some(DownstreamAuth {
                user_id: Some(caller.user_id),
                user_name: Some(caller.user_name.replace('~', "-")),
                is_logged_in: true,
                account_id: caller.account_id,
                password: String::new(),
            });
            identity.write_headers(req.headers_mut());
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

struct Caller {
    user_id: i64,
    user_name: String,
    partner_id: i64,
    account_id: Option<i64>,
    plan: tenancy::PlanType,
}

async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, GatewayError> {
    let token = token::bearer(headers)?;
    let claims = state.tokens.verify(token)?;
    let (session, _tier) = state.sessions.resolve(&claims.sid, token).await?;
    let plan = state.plans.plan(session.partner_id).await?;
    Ok(Caller {
        user_id: session.user_id,
        user_name: session.user_name,
        partner_id: session.partner_id,
        account_id: session.account_id,
        plan,
    })
}
