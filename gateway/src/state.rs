//! What every request can reach; one `Arc`, cheap to clone.

use std::sync::Arc;

use crate::auth::token::TokenVerifier;
use crate::limits::EdgeLimiter;
use crate::plan::PlanResolver;
use crate::proxy::HttpClient;
use crate::session::SessionTiers;
use crate::Config;

/// Shared by every request (see [`platform::state`]).
pub type AppState = platform::state::Shared<Services>;

pub struct Services {
    pub config: Config,
    pub redis: redis::cluster_async::ClusterConnection,
    pub tokens: TokenVerifier,
    pub sessions: Arc<SessionTiers>,
    pub keys: Arc<crate::session::keys::KeyTiers>,
    pub plans: PlanResolver,
    pub limits: EdgeLimiter,
    pub http: HttpClient,
    pub upstreams: crate::proxy::Upstreams,
    pub documents: crate::openapi::Documents,
    /// Cancels the background work (the logout subscription, the key use reporter) when the state is dropped.
    pub(crate) _background: tokio_util::sync::DropGuard,
}
