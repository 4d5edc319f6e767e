//! Ends every request's sessions in one place, so no handler can forget to commit or leak a
//! transaction:
//! - the handler succeeded (1xx–3xx): commit Postgres, flush ClickHouse writes, run the
//!   after-commit hooks; a failed commit turns the response into an error;
//! - the handler answered with an error (4xx/5xx): roll back;
//! - `SERVER_TIMEOUT` passed: the handler (or the Postgres commit) is cancelled, both sessions
//!   roll back, and the client gets a 504 problem;
//! - the client went away: the request future is dropped, and with it the open transaction,
//!   which sqlx rolls back; buffered ClickHouse writes are dropped unsent.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::core::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

pub async fn session(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(ctx) = req.extensions().get::<Arc<RequestContext>>().cloned() else {
        return ApiError::Internal(anyhow::anyhow!("session middleware without a context")).into_response();
    };
    let deadline = state.config.server.request_timeout;
    let started = std::time::Instant::now();
    match tokio::time::timeout(deadline, next.run(req)).await {
        Ok(response) if !response.status().is_client_error() && !response.status().is_server_error() => {
            match ctx.commit(deadline.saturating_sub(started.elapsed())).await {
                Ok(()) => response,
                Err(e) => {
                    ctx.rollback().await;
                    e.into_response()
                }
            }
        }
        Ok(response) => {
            ctx.rollback().await;
            response
        }
        Err(_) => {
            ctx.rollback().await;
            tracing::warn!(timeout_s = deadline.as_secs(), "request timed out; sessions rolled back");
            ApiError::Timeout(deadline.as_secs()).into_response()
        }
    }
}
