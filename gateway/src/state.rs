//! What every request can reach; one `Arc`, cheap to clone.

use std::sync::Arc;

use crate::auth::token::TokenVerifier;
use crate::limits::EdgeLimiter;
use crate::plan::PlanResolver;
use crate::proxy::HttpClient;
use crate::session::SessionTiers;
use crate::Config;

#[derive(Clone)]
pub struct AppState(Arc<Services>);

pub struct Services {
    pub config: Config,
    pub redis: redis::cluster_async::ClusterConnection,
    pub tokens: TokenVerifier,
    pub sessions: Arc<SessionTiers>,
    pub plans: PlanResolver,
    pub limits: EdgeLimiter,
    pub http: HttpClient,
    pub documents: crate::openapi::Documents,
}

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.0
    }
}
