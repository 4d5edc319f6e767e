//! The task queue over HTTP: enqueue one (`POST /tasks`) or many in one statement (`POST
//! /tasks/bulk`), read one (`GET /tasks/{id}`), and list them by status and flow, newest first
//! (`GET /tasks`).

use axum::extract::State;
use axum::http::StatusCode;
use platform::extract::Json;
use platform::extract::{Path, Query};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiResult;
use crate::queue::repo::{NewTask, Task, TaskStatus};
use crate::queue::FlowName;
use crate::service::tasks;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(enqueue))
        .routes(routes!(enqueue_bulk))
        .routes(routes!(get_task))
        .routes(routes!(list))
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
async fn enqueue(State(state): State<AppState>, Json(task): Json<NewTask>) -> ApiResult<(StatusCode, Json<Enqueued>)> {
    let (task, created) = tasks::enqueue(&state, task).await?;
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
async fn enqueue_bulk(State(state): State<AppState>, Json(bulk): Json<Bulk>) -> ApiResult<Json<BulkResult>> {
    let done = tasks::enqueue_many(&state, bulk.tasks).await?;
    let created = done.iter().filter(|(_, c)| *c).count();
    Ok(Json(BulkResult { created, existing: done.len() - created, ids: done.iter().map(|(t, _)| t.id).collect() }))
}

#[utoipa::path(get, path = "/tasks/{id}", tag = "tasks", params(("id" = i64, Path)),
    responses((status = 200, body = Task), (status = 404)))]
async fn get_task(State(state): State<AppState>, Path(domain::Id(id)): Path<domain::Id>) -> ApiResult<Json<Task>> {
    Ok(Json(tasks::get(&state, id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
struct ListQuery {
    status: Option<TaskStatus>,
    /// a flow's name (lowercase letters, digits, `_` and `-`)
    #[param(value_type = Option<String>, pattern = "^[a-z0-9_-]{1,64}$")]
    flow: Option<FlowName>,
    #[serde(default = "one")]
    #[param(minimum = 1, maximum = 1000000)]
    page: i64,
    #[serde(default = "fifty")]
    #[param(minimum = 1, maximum = 500)]
    size: i64,
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
    let (items, total) = tasks::list(&state, q.status, q.flow.as_ref(), q.page, q.size).await?;
    Ok(Json(TaskPage { items, total, page: q.page, size: q.size }))
}
