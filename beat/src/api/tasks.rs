//! The task queue over HTTP: enqueue one (`POST /tasks`) or many in one statement (`POST
//! /tasks/bulk`), read one (`GET /tasks/{id}`), and list them by status and flow, newest first
//! (`GET /tasks`).

use axum::extract::State;
use axum::http::StatusCode;
use domain::Handle;
use platform::extract::Json;
use platform::extract::{Path, Query};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult};
use crate::queue::repo::{self, NewTask, Task, TaskStatus};
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enqueue))
        .routes(routes!(enqueue_bulk))
        .routes(routes!(get_task))
        .routes(routes!(list))
}

/// At most this many tasks in one bulk request.
const BULK_MAX: usize = 10_000;

/// Checks a task and fills in its flow's default priority.
fn validate(state: &AppState, t: &mut NewTask) -> Result<(), ApiError> {
    let Some(flow) = state.flows.iter().find(|f| f.name == t.flow) else {
        let known: Vec<&str> = state.flows.iter().map(|f| f.name.as_str()).collect();
        return Err(ApiError::BadRequest(format!("unknown flow {:?}; flows are {}", t.flow, known.join(", "))));
    };
    if flow.platform != t.platform {
        return Err(ApiError::BadRequest(format!("flow {} refreshes {} creators", flow.name, flow.platform)));
    }
    Handle::parse(t.platform, &t.target).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if !(1..=20).contains(&t.max_attempts) {
        return Err(ApiError::BadRequest("max_attempts must be between 1 and 20".into()));
    }
    t.priority = Some(t.priority.unwrap_or(flow.priority));
    Ok(())
}

#[derive(Serialize, utoipa::ToSchema)]
struct Enqueued {
    task: Task,
    /// false: an open task for the same flow and target already existed, and this is it.
    created: bool,
}

/// Enqueues a task, or returns the open one for the same flow, platform and target.
#[utoipa::path(post, path = "/tasks", tag = "tasks", request_body = NewTask,
    responses((status = 201, body = Enqueued), (status = 200, body = Enqueued, description = "a duplicate"), (status = 400)))]
async fn enqueue(
    State(state): State<AppState>,
    Json(mut task): Json<NewTask>,
) -> ApiResult<(StatusCode, Json<Enqueued>)> {
    validate(&state, &mut task)?;
    let (task, created) = state.pg.run(repo::enqueue(&state.pg, &task)).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, Json(Enqueued { task, created })))
}

#[derive(Deserialize, utoipa::ToSchema)]
struct Bulk {
    tasks: Vec<NewTask>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct BulkResult {
    created: usize,
    existing: usize,
    ids: Vec<i64>,
}

/// Enqueues up to 10,000 tasks in one statement; every task is checked first, and one bad task
/// rejects the whole request (nothing is enqueued).
#[utoipa::path(post, path = "/tasks/bulk", tag = "tasks", request_body = Bulk,
    responses((status = 200, body = BulkResult), (status = 400)))]
async fn enqueue_bulk(State(state): State<AppState>, Json(mut bulk): Json<Bulk>) -> ApiResult<Json<BulkResult>> {
    if bulk.tasks.is_empty() || bulk.tasks.len() > BULK_MAX {
        return Err(ApiError::BadRequest(format!("send 1 to {BULK_MAX} tasks")));
    }
    for (i, t) in bulk.tasks.iter_mut().enumerate() {
        validate(&state, t).map_err(|e| ApiError::BadRequest(format!("tasks[{i}]: {e}")))?;
    }
    let done = state.pg.run(repo::enqueue_many(&state.pg, &bulk.tasks)).await?;
    let created = done.iter().filter(|(_, c)| *c).count();
    Ok(Json(BulkResult { created, existing: done.len() - created, ids: done.iter().map(|(t, _)| t.id).collect() }))
}

#[utoipa::path(get, path = "/tasks/{id}", tag = "tasks", params(("id" = i64, Path)),
    responses((status = 200, body = Task), (status = 404)))]
async fn get_task(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<Task>> {
    state
        .pg
        .run(repo::get(&state.pg, id))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("task {id} not found")))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct ListQuery {
    status: Option<TaskStatus>,
    /// a flow's name (lowercase letters, digits, `_` and `-`)
    #[param(pattern = "^[a-z0-9_-]{1,64}$")]
    flow: Option<String>,
    #[serde(default = "one")]
    #[param(minimum = 1, maximum = 1000000)]
    page: i64,
    #[serde(default = "fifty")]
    #[param(minimum = 1, maximum = 500)]
    size: i64,
}

/// What the documented pattern of a flow name allows.
fn is_flow_name(f: &str) -> bool {
    (1..=64).contains(&f.len())
        && f.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn one() -> i64 {
    1
}

fn fifty() -> i64 {
    50
}

#[derive(Serialize, utoipa::ToSchema)]
struct TaskPage {
    items: Vec<Task>,
    total: i64,
    page: i64,
    size: i64,
}

/// Tasks, newest first, by status and flow.
#[utoipa::path(get, path = "/tasks", tag = "tasks", params(ListQuery),
    responses((status = 200, body = TaskPage), (status = 400)))]
async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Json<TaskPage>> {
    if q.page < 1 || !(1..=500).contains(&q.size) {
        return Err(ApiError::BadRequest("page starts at 1; size is 1 to 500".into()));
    }
    if let Some(flow) = q.flow.as_deref().filter(|f| !is_flow_name(f)) {
        return Err(ApiError::BadRequest(format!("{flow:?} is not a flow name")));
    }
    let (items, total) = state.pg.run(repo::list(&state.pg, q.status, q.flow.as_deref(), q.page, q.size)).await?;
    Ok(Json(TaskPage { items, total, page: q.page, size: q.size }))
}
