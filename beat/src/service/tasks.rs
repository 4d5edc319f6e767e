//! The queue's rules for callers: a task names a flow beat runs, for that flow's platform, a
//! valid handle and 1 to 20 attempts; it takes its flow's priority unless it says otherwise. A
//! bulk enqueue is checked whole before anything is written.

use domain::Handle;

use crate::error::{ApiError, ApiResult};
use crate::queue::repo::{self, NewTask, Task, TaskStatus};
use crate::queue::worker::Flow;
use crate::queue::FlowName;
use crate::AppState;

/// At most this many tasks in one bulk request.
pub const BULK_MAX: usize = 10_000;

/// Checks a task and fills in its flow's default priority.
fn admit(flows: &[Flow], t: &mut NewTask) -> Result<(), ApiError> {
    let Some(flow) = flows.iter().find(|f| f.name == t.flow.as_str()) else {
        let known: Vec<&str> = flows.iter().map(|f| f.name.as_str()).collect();
        return Err(ApiError::BadRequest(format!(
            "unknown flow {:?}; flows are {}",
            t.flow.as_str(),
            known.join(", ")
        )));
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

/// Enqueues `task`, or returns the open one for the same flow, platform and target; the bool
/// says whether it is new.
pub async fn enqueue(state: &AppState, mut task: NewTask) -> ApiResult<(Task, bool)> {
    admit(&state.flows, &mut task)?;
    Ok(state.pg.run(repo::enqueue(&state.pg, &task)).await?)
}

/// Enqueues 1 to [`BULK_MAX`] tasks in one statement; one bad task refuses them all.
pub async fn enqueue_many(state: &AppState, mut tasks: Vec<NewTask>) -> ApiResult<Vec<(Task, bool)>> {
    if tasks.is_empty() || tasks.len() > BULK_MAX {
        return Err(ApiError::BadRequest(format!("send 1 to {BULK_MAX} tasks")));
    }
    for (i, t) in tasks.iter_mut().enumerate() {
        admit(&state.flows, t).map_err(|e| ApiError::BadRequest(format!("tasks[{i}]: {e}")))?;
    }
    Ok(state.pg.run(repo::enqueue_many(&state.pg, &tasks)).await?)
}

pub async fn get(state: &AppState, id: i64) -> ApiResult<Task> {
    state.pg.run(repo::get(&state.pg, id)).await?.ok_or_else(|| ApiError::NotFound(format!("task {id} not found")))
}

/// A page of tasks, newest first, by status and flow; pages start at 1 and hold 1 to 500.
pub async fn list(
    state: &AppState,
    status: Option<TaskStatus>,
    flow: Option<&FlowName>,
    page: i64,
    size: i64,
) -> ApiResult<(Vec<Task>, i64)> {
    if page < 1 || !(1..=500).contains(&size) {
        return Err(ApiError::BadRequest("page starts at 1; size is 1 to 500".into()));
    }
    Ok(state.pg.run(repo::list(&state.pg, status, flow, page, size)).await?)
}
