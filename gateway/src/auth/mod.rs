//! The edge middleware: every request to a module passes here before the proxy.
//!
//! 1. A body declared larger than `MAX_BODY_BYTES` is refused (413) before any work.
//! 2. Whatever the client sent as tenant headers (`x-bb-*`) is stripped; the client's own
//!    device and client ids survive when well-formed.
//! 3. Identity's own routes (login, logout, verify) need no session; they are limited per IP,
//!    and login per email+IP too. A browser's `POST /identity/logout` with only its
//!    `Authorization: Bearer` header is turned into the JSON body identity expects.
//! 4. Every other route needs `Authorization: Bearer <token>`: the token is checked here
//!    ([`token`]), the session's liveness through the session tiers, the partner's plan through
//!    the plan resolver; then the partner's and client's limits; then the trusted values are
//!    injected for the modules (partner, account, plan, and the downstream `Authorization`:
//!    `userId~userName~isLoggedIn~accountId:`).
//!
//! Rate-limit headers are added to the module's response.

pub mod token;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tenancy::{DownstreamAuth, TenantIdentity};

use crate::error::{AuthFailure, GatewayError};
use crate::limits::PartnerCaller;
use crate::proxy::declared_length;
use crate::state::AppState;

/// Paths served without a session: identity authenticates these itself.
fn is_public(path: &str) -> bool {
    path.starts_with("/identity/")
}

/// The largest login body read to find the email (a login is two short strings).
const LOGIN_BODY_MAX: usize = 16 * 1024;

/// The client-describing headers that survive stripping, if well-formed.
fn client_headers(headers: &HeaderMap) -> TenantIdentity {
    TenantIdentity::client_from_headers(headers).unwrap_or_default()
}

fn peer_ip(req: &Request) -> IpAddr {
    req.extensions().get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if declared_length(req.headers()).is_some_and(|n| n > state.config.server.max_body_bytes) {
        return GatewayError::PayloadTooLarge(state.config.server.max_body_bytes).into_response();
    }
    let mut identity = client_headers(req.headers());
    let removed = tenancy::strip_tenant_headers(req.headers_mut());
    if removed > 0 {
        metrics::counter!("gateway_spoofed_tenant_headers_total").increment(removed as u64);
    }
    let result = if is_public(req.uri().path()) {
        // boxed: the hot path (a session's request) does not carry the login's larger future
        Box::pin(public(&state, req, identity)).await
    } else {
        match caller(&state, req.headers()).await {
            Ok(caller) => {
                let client = match &identity.client_id {
                    Some(id) => std::borrow::Cow::Borrowed(id.as_str()),
                    None => {
                        let mut user = String::from("user:");
                        user.push_str(itoa::Buffer::new().format(caller.session.user_id));
                        std::borrow::Cow::Owned(user)
                    }
                };
                let who = PartnerCaller { plan: caller.plan, partner_id: caller.partner_id(), client: &client };
                match state.limits.partner(&who).await {
                    Ok(limit_headers) => {
                        identity.partner_id = Some(caller.partner_id());
                        identity.account_id = caller.session.account_id;
                        identity.plan_type = Some(caller.plan);
                        identity.auth = Some(DownstreamAuth {
                            user_id: Some(caller.session.user_id),
                            user_name: Some(caller.session.user_name.replace('~', "-")),
                            is_logged_in: true,
                            account_id: caller.session.account_id,
                            password: String::new(),
                        });
                        identity.write_headers(req.headers_mut());
                        Ok((req, limit_headers))
                    }
                    Err(e) => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    };
    match result {
        Ok((req, limit_headers)) => {
            let mut response = next.run(req).await;
            limit_headers.write_to(&mut response);
            response
        }
        Err(e) => e.into_response(),
    }
}

/// Identity's routes: limited per IP (and login per email+IP), no session needed.
async fn public(
    state: &AppState,
    req: Request,
    identity: TenantIdentity,
) -> Result<(Request, ratelimit::RateLimitHeaders), GatewayError> {
    let ip = peer_ip(&req);
    let path = req.uri().path().to_owned();
    let (mut parts, body) = req.into_parts();
    let bearer = token::bearer(&parts.headers).ok().map(str::to_owned);
    parts.headers.remove(header::AUTHORIZATION);
    let (limit_headers, body) = if parts.method == Method::POST && path == "/identity/login" {
        let bytes = axum::body::to_bytes(body, LOGIN_BODY_MAX)
            .await
            .map_err(|_| GatewayError::PayloadTooLarge(LOGIN_BODY_MAX as u64))?;
        let email = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v.get("email").and_then(|e| e.as_str()).map(str::to_owned))
            .unwrap_or_default();
        (state.limits.login(ip, &email).await?, Body::from(bytes))
    } else {
        (state.limits.public(ip).await?, body)
    };
    let mut body = body;
    let empty = declared_length(&parts.headers).is_none_or(|n| n == 0)
        && !parts.headers.contains_key(header::TRANSFER_ENCODING);
    if parts.method == Method::POST && path == "/identity/logout" && empty {
        // nothing to log out with: the edge says so, instead of identity's "send JSON"
        let Some(token) = bearer else { return Err(GatewayError::Unauthorized(AuthFailure::Missing)) };
        // a browser logs out with its bearer header; identity reads the token from the body
        let json = serde_json::to_vec(&serde_json::json!({ "token": token })).unwrap_or_default();
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(json.len()));
        body = Body::from(json);
    }
    identity.write_headers(&mut parts.headers);
    Ok((Request::from_parts(parts, body), limit_headers))
}

/// Who is calling, once the token, the session and the plan have been checked.
#[derive(Debug)]
pub struct Caller {
    pub session: std::sync::Arc<crate::session::CachedSession>,
    pub plan: tenancy::PlanType,
}

impl Caller {
    pub fn partner_id(&self) -> i64 {
        self.session.partner_id
    }
}

/// The authentication decision for a request's headers: the bearer token checked, its session
/// found live in the tiers, and the partner's plan.
pub async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, GatewayError> {
    let token = token::bearer(headers)?;
    let claims = state.tokens.verify(token)?;
    let (session, _tier) = state.sessions.resolve(&claims.sid, token).await?;
    let plan = state.plans.plan(session.partner_id).await?;
    Ok(Caller { session, plan })
}
