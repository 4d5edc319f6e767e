//! Parses `x-bb-partner-id`, `x-bb-plan-type`, `x-bb-account-id`, `x-bb-device-id`, the client
//! headers and the downstream `Authorization` into a [`RequestContext`]. A malformed value is a
//! 400 naming the header, never silently ignored.
//!
//! With `TENANT_SIGNING_SECRET` configured, tenant headers count only under the gateway's
//! signature (`x-bb-signature`, see `tenancy::SigningKey`): a caller who reaches coffee directly
//! cannot name a partner. A request with no tenant headers at all passes as anonymous.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tenancy::TenantIdentity;

use crate::core::clickhouse::ChSession;
use crate::core::context::RequestContext;
use crate::core::postgres::PgSession;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn context(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if let Some(key) = &state.config.tenant_signing_key {
        if tenancy::carries_tenant(req.headers()) {
            let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
            let now = chrono::Utc::now().timestamp();
            if let Err(e) = key.verify(now, req.method(), path, req.headers()) {
                metrics::counter!("coffee_unsigned_tenant_refused_total").increment(1);
                return ApiError::Unauthorized(e.to_string()).into_response();
            }
        }
    }
    let tenant = match TenantIdentity::from_headers(req.headers()) {
        Ok(t) => t,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let ctx = RequestContext::new(
        tenant,
        state.config.clone(),
        PgSession::new(state.pg.clone(), state.session_stats.clone()),
        ChSession::new(state.ch.clone(), state.session_stats.clone()),
    );
    req.extensions_mut().insert(Arc::new(ctx));
    next.run(req).await
}
