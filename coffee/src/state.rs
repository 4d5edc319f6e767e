//! The state every handler can reach: pools, clients and settings. Cheap to clone.

use std::sync::Arc;
use std::time::Duration;

use crate::core::postgres::session::SessionStats;
use crate::Config;

#[derive(Clone)]
pub struct AppState {
    pub pg: sqlx::PgPool,
    pub ch: clickhouse::Client,
    pub redis: redis::cluster_async::ClusterConnection,
    pub config: Arc<Config>,
    pub request_timeout: Duration,
    pub session_stats: Arc<SessionStats>,
}
