//! Who is calling, as the gateway tells the modules behind it.
//!
//! The gateway authenticates the caller, strips any `x-bb-*` header the client sent (a client must
//! never choose its own tenant), and injects the trusted ones defined here. Modules parse them
//! back into a [`TenantIdentity`] and forward them on their own outgoing calls
//! ([`TenantIdentity::write_headers`]), so a call between modules carries its caller's tenant.
//!
//! Parsing is strict: a malformed header is an error, never silently ignored.

mod api_key;
mod auth;
mod headers;
mod identity;
mod plan;
mod session;
mod signing;
mod token;

pub use api_key::{
    api_key_invalidation, api_key_key, api_key_of_invalidation, api_key_revoked_key, ApiKey, ApiKeyInfo,
    KeyFormatError, KeyHash, KeyScope, KeyVerdict, API_CLIENT_TYPE, KEY_PREFIX,
};
pub use auth::{DownstreamAuth, DownstreamAuthError};
pub use headers::{strip_tenant_headers, TENANT_HEADERS};
pub use headers::{ACCOUNT_ID, AUTHORIZATION, CLIENT_ID, CLIENT_TYPE, DEVICE_ID, PARTNER_ID, PLAN_TYPE};
pub use identity::{TenancyError, TenantIdentity};
pub use plan::{PlanType, UnknownPlan};
pub use session::{revoked_key, session_key, SessionInfo, DEFAULT_ISSUER, INVALIDATION_CHANNEL};
pub use signing::{carries_tenant, SignatureError, SigningKey, MAX_AGE_SECS, SIGNATURE};
pub use token::{session_id, token_validation, TOKEN_ALGORITHM};
