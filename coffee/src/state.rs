//! The state every handler can reach: pools, clients and settings. Cheap to clone.

use std::sync::Arc;
use std::time::Duration;

use crate::core::clickhouse::ChPool;
use crate::core::postgres::session::SessionStats;
use crate::modules::identity::tokens::TokenKeys;
use crate::modules::usage::log::UsageLog;
use crate::Config;

/// Shared by every request; axum clones the state into each middleware and handler, so it is
/// one `Arc` (the ClickHouse client alone holds maps that would be copied per clone).
#[derive(Clone)]
pub struct AppState(Arc<Services>);

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

pub struct Services {
    /// Postgres, behind the request deadline and breaker (`PG_QUERY_TIMEOUT_MS`, `PG_BREAKER_*`).
    pub pg: store::pg::GuardedPool,
    pub ch: Arc<ChPool>,
    pub redis: redis::cluster_async::ClusterConnection,
    pub config: Arc<Config>,
    pub request_timeout: Duration,
    pub session_stats: Arc<SessionStats>,
    /// Group-committed usage events (views and searches of unlimited plans).
    pub usage_log: UsageLog,
    /// Sessions in Redis: cached at login, tombstoned at logout.
    pub sessions: store::sessions::SessionCache,
    /// Session-token keys, decoded once.
    pub tokens: Arc<TokenKeys>,
}
