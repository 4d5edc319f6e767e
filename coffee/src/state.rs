//! The state every handler can reach: pools, clients and settings. Cheap to clone.

use std::sync::Arc;

use crate::core::clickhouse::ChPool;
use crate::core::postgres::session::SessionStats;
use crate::modules::identity::tokens::TokenKeys;
use crate::modules::usage::log::UsageLog;
use crate::Config;

/// Shared by every request (see [`platform::state`]).
pub type AppState = platform::state::Shared<Services>;

pub struct Services {
    /// Postgres, behind the request deadline and breaker (`PG_QUERY_TIMEOUT_MS`, `PG_BREAKER_*`).
    pub pg: store::pg::GuardedPool,
    pub ch: Arc<ChPool>,
    pub redis: redis::cluster_async::ClusterConnection,
    pub config: Arc<Config>,
    pub session_stats: Arc<SessionStats>,
    /// Group-committed usage events (views and searches of unlimited plans).
    pub usage_log: UsageLog,
    /// Sessions in Redis: cached at login, tombstoned at logout.
    pub sessions: store::sessions::SessionCache,
    /// Session-token keys, decoded once.
    pub tokens: Arc<TokenKeys>,
}
