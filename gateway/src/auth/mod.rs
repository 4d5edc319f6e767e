//! The edge middleware: every request to a module passes here before the proxy.
//!
//! 1. A body declared larger than `MAX_BODY_BYTES` is refused (413) before any work.
//! 2. Whatever the client sent as tenant headers (`x-bb-*`) is stripped; the client's own
//!    device and client ids survive when well-formed.
//! 3. Identity's own routes (login, logout, verify) need no session; they are limited per IP,
//!    and login per email+IP too. A browser's `POST /identity/logout` with only its
//!    `Authorization: Bearer` header is turned into the JSON body identity expects.
//! 4. Every other route needs a credential: `Authorization: Bearer <token>` (a person's
//!    session: the token is checked here ([`token`]), the session's liveness through the session
//!    tiers) or an API key (`x-api-key: bb_live_…` or `Authorization: Bearer bb_live_…`: shape
//!    and checksum here, liveness through the key tiers; refused keys are limited per IP, and
//!    an IP past that limit is not looked up for any more). Then the partner's plan through the
//!    plan resolver (a key needs SAAS or PAID: 402), a key's scope (a read-only key writing:
//!    403), the partner's and client's limits (a key is its own client), and the trusted values
//!    are injected for the modules (partner, account, plan, a key's client id with client type
//!    `api`, and the downstream `Authorization`: `userId~userName~isLoggedIn~accountId:`). The
//!    key itself never goes past the edge.
//!
//! Rate-limit headers are added to the module's response.

pub mod token;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use std::sync::Arc;

use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tenancy::{ApiKey, DownstreamAuth, KeyFormatError, TenantIdentity, API_CLIENT_TYPE};

use crate::error::{AuthFailure, GatewayError};
use crate::limits::PartnerCaller;
use crate::proxy::declared_length;
use crate::session::keys::CachedKey;
use crate::session::{CachedSession, Fresh};
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
        let ip = peer_ip(&req);
        match caller(&state, req.headers(), ip).await {
            Ok(caller) => match admit(&state, &caller, req.method(), &mut identity).await {
                Ok(limit_headers) => {
                    // the key goes no further than the edge
                    req.headers_mut().remove(&API_KEY_HEADER);
                    identity.write_headers(req.headers_mut());
                    Ok((req, limit_headers))
                }
                Err(e) => Err(e),
            },
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
    // identity's routes take no API key in a header; none goes past the edge
    parts.headers.remove(&API_KEY_HEADER);
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

/// The header an API key may come in instead of `Authorization: Bearer`.
pub const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");

/// The credential a request presents.
enum Credential<'a> {
    /// A session token (`Authorization: Bearer <jwt>`).
    Session(&'a str),
    /// An API key (`x-api-key`, or `Authorization: Bearer bb_live_…`), already checked for
    /// shape and checksum.
    Key(ApiKey),
}

fn parse_key(text: &str) -> Result<ApiKey, GatewayError> {
    ApiKey::parse(text).map_err(|e| {
        GatewayError::Unauthorized(match e {
            KeyFormatError::Malformed => AuthFailure::KeyMalformed,
            KeyFormatError::Checksum => AuthFailure::KeyMistyped,
        })
    })
}

/// The request's credential: `x-api-key` if present, else the bearer token (a key when it
/// carries the key prefix).
fn credential(headers: &HeaderMap) -> Result<Credential<'_>, GatewayError> {
    if let Some(value) = headers.get(&API_KEY_HEADER) {
        let text = value.to_str().map_err(|_| GatewayError::Unauthorized(AuthFailure::KeyMalformed))?;
        return parse_key(text.trim()).map(Credential::Key);
    }
    let bearer = token::bearer(headers)?;
    if ApiKey::looks_like(bearer) {
        return parse_key(bearer).map(Credential::Key);
    }
    Ok(Credential::Session(bearer))
}

/// Who is calling: a person's session or a partner's API key.
#[derive(Debug)]
pub enum Who {
    Session(Arc<Fresh<CachedSession>>),
    Key(Arc<Fresh<CachedKey>>),
}

/// Who is calling, once the credential and the partner's plan have been checked.
#[derive(Debug)]
pub struct Caller {
    pub who: Who,
    pub plan: tenancy::PlanType,
}

impl Caller {
    pub fn partner_id(&self) -> i64 {
        match &self.who {
            Who::Session(s) => s.partner_id,
            Who::Key(k) => k.partner_id,
        }
    }
}

/// The authentication decision for a request's headers: the session token checked and its
/// session found live in the tiers, or the API key found live in its tiers; and the partner's
/// plan. `ip` is the client's: refused keys are limited per IP.
pub async fn caller(state: &AppState, headers: &HeaderMap, ip: IpAddr) -> Result<Caller, GatewayError> {
    match credential(headers) {
        Ok(Credential::Session(token)) => {
            let claims = state.tokens.verify(token)?;
            let (session, _tier) = state.sessions.resolve(&claims.sid, token).await?;
            let plan = state.plans.plan(session.partner_id).await?;
            Ok(Caller { who: Who::Session(session), plan })
        }
        Ok(Credential::Key(key)) => {
            // an IP that keeps presenting refused keys is not looked up for any more
            let gate = || state.limits.key_lookups_allowed(ip);
            match state.keys.resolve(&key, gate).await {
                Ok((key, _tier)) => {
                    let plan = state.plans.plan(key.partner_id).await?;
                    Ok(Caller { who: Who::Key(key), plan })
                }
                Err(e) => Err(key_refused(state, ip, e).await),
            }
        }
        Err(e @ GatewayError::Unauthorized(why)) if why.is_key() => Err(key_refused(state, ip, e).await),
        Err(e) => Err(e),
    }
}

/// A refused key counts against its IP; once the IP is over its limit the answer is the 429.
async fn key_refused(state: &AppState, ip: IpAddr, refusal: GatewayError) -> GatewayError {
    if !matches!(refusal, GatewayError::Unauthorized(_)) {
        return refusal;
    }
    match state.limits.key_refused(ip).await {
        Err(limited @ GatewayError::RateLimited(_)) => limited,
        _ => refusal,
    }
}

/// The rules after authentication: a key's plan and scope, then the partner's and client's
/// limits; on success the trusted identity is filled in for the modules.
async fn admit(
    state: &AppState,
    caller: &Caller,
    method: &Method,
    identity: &mut TenantIdentity,
) -> Result<ratelimit::RateLimitHeaders, GatewayError> {
    let partner_id = caller.partner_id();
    let limit_headers = match &caller.who {
        Who::Session(session) => {
            // only the edge says a request came with an API key
            if identity.client_type.as_deref() == Some(API_CLIENT_TYPE) {
                identity.client_type = None;
            }
            let client = match &identity.client_id {
                Some(id) => std::borrow::Cow::Borrowed(id.as_str()),
                None => {
                    let mut user = String::from("user:");
                    user.push_str(itoa::Buffer::new().format(session.user_id));
                    std::borrow::Cow::Owned(user)
                }
            };
            let who = PartnerCaller { plan: caller.plan, partner_id, client: &client };
            let limit_headers = state.limits.partner(&who).await?;
            identity.account_id = session.account_id;
            identity.auth = Some(DownstreamAuth {
                user_id: Some(session.user_id),
                user_name: Some(session.user_name.replace('~', "-")),
                is_logged_in: true,
                account_id: session.account_id,
                password: String::new(),
            });
            limit_headers
        }
        Who::Key(key) => {
            if caller.plan == tenancy::PlanType::Free {
                return Err(GatewayError::PaymentRequired(
                    "API keys need a SAAS or PAID plan; this key's partner is on the FREE plan".into(),
                ));
            }
            if !key.scope.permits(method) {
                return Err(GatewayError::Forbidden(format!(
                    "this API key has the {} scope, which does not allow {method} requests; they need the read_write scope",
                    key.scope.as_str()
                )));
            }
            // the per-client limit applies per key
            let who = PartnerCaller { plan: caller.plan, partner_id, client: &key.client_id };
            let limit_headers = state.limits.partner(&who).await?;
            identity.client_id = Some(key.client_id.to_string());
            identity.client_type = Some(API_CLIENT_TYPE.to_owned());
            identity.account_id = None;
            identity.auth = Some(DownstreamAuth {
                user_id: key.user_id,
                user_name: Some(format!("api-key:{}", key.name.replace('~', "-"))),
                is_logged_in: true,
                account_id: None,
                password: String::new(),
            });
            limit_headers
        }
    };
    identity.partner_id = Some(partner_id);
    identity.plan_type = Some(caller.plan);
    Ok(limit_headers)
}
