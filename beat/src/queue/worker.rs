//! The workers: each flow claims up to its free slots in one statement, runs its tasks, and
//! records each outcome (fenced). Idle flows sleep until an enqueue's `NOTIFY` wakes them, with
//! a slow poll as the fallback (a lost notification, a task whose `run_after` arrives), so there
//! is no tight polling loop. While tasks run their leases are extended; a reaper returns the
//! leases of workers that died, and retention prunes finished tasks.
//!
//! Shutdown: claiming stops at once, running tasks get `drain` to finish, and whatever is still
//! running then is stopped (its refresh dropped where it stands; an outcome it might still have
//! recorded is lease-fenced anyway) and released to PENDING without spending its attempt, so
//! no task can hold the shutdown for longer than the drain and one statement's deadline.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::{Handle, Platform};
use sqlx::postgres::PgListener;
use store::pg::GuardedPool;
use tokio::sync::{Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use super::repo::{self, Failure, Task};
use crate::pipeline::{Depth, RefreshError, Refresher};

/// A kind of task: what it refreshes, how many may run at once in this process, and the
/// priority its tasks get when the enqueuer names none.
#[derive(Debug, Clone)]
pub struct Flow {
    pub name: String,
    pub platform: Platform,
    pub depth: Depth,
    pub concurrency: usize,
    pub priority: i16,
}

/// The flows beat runs: profile (basic) refreshes, posts refreshes and YouTube channel
/// refreshes, each `concurrency` at once and priority 0, unless `overrides` (name, concurrency,
/// priority) say otherwise.
pub fn flows(concurrency: usize, overrides: &[(String, usize, i16)]) -> Vec<Flow> {
    let flow = |name: &str, platform, depth| {
        let (concurrency, priority) =
            overrides.iter().find(|(n, ..)| n == name).map_or((concurrency, 0), |(_, c, p)| (*c, *p));
        Flow { name: name.to_owned(), platform, depth, concurrency, priority }
    };
    vec![
        flow("profile_refresh", Platform::Instagram, Depth::Basic),
        flow("posts_refresh", Platform::Instagram, Depth::Full),
        flow("channel_refresh", Platform::Youtube, Depth::Full),
    ]
}

/// The names [`flows`] knows.
pub const FLOW_NAMES: [&str; 3] = ["profile_refresh", "posts_refresh", "channel_refresh"];

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Unique per process: `locked_by` of its tasks.
    pub id: String,
    pub lease: Duration,
    pub poll: Duration,
    pub drain: Duration,
    pub retry_base: Duration,
    pub retry_cap: Duration,
    /// Finished tasks older than this are pruned.
    pub retention: Duration,
    /// How often tracked creators not refreshed for a day are enqueued.
    pub schedule_every: Duration,
}

struct Shared {
    /// Every statement of the workers runs under its deadline and breaker: a silent database
    /// costs a claim or an outcome (the lease and the reaper recover either), never a worker
    /// stuck behind it, nor a shutdown that cannot end.
    pg: GuardedPool,
    refresher: Arc<Refresher>,
    config: WorkerConfig,
    running: Mutex<HashSet<i64>>,
    wake: Notify,
}

/// Runs the flows until `stop`, then drains and releases. Returns when done.
pub async fn run(
    pg: GuardedPool,
    refresher: Arc<Refresher>,
    flows: Vec<Flow>,
    config: WorkerConfig,
    stop: CancellationToken,
) {
    let shared = Arc::new(Shared { pg, refresher, config, running: Mutex::new(HashSet::new()), wake: Notify::new() });
    let tasks = tokio_util::task::TaskTracker::new();
    let upkeep = tokio::spawn(upkeep(shared.clone(), stop.clone()));
    let listener = tokio::spawn(listen(shared.clone(), stop.clone()));
    // cancelled when the drain is over: ends the tasks still running
    let abandon = CancellationToken::new();
    let loops: Vec<_> = flows
        .into_iter()
        .map(|f| tokio::spawn(flow_loop(shared.clone(), f, tasks.clone(), stop.clone(), abandon.clone())))
        .collect();
    stop.cancelled().await;
    for l in loops {
        let _ = l.await;
    }
    tasks.close();
    if tokio::time::timeout(shared.config.drain, tasks.wait()).await.is_err() {
        tracing::warn!(worker = %shared.config.id, "tasks still running after the drain; releasing them");
        // stopped before they are released, so none records an outcome afterwards and none
        // keeps the refresher (and with it the writers the shutdown waits for) alive: a refresh
        // stuck on slow sources or a silent store would otherwise hold the shutdown for as long
        // as it runs
        abandon.cancel();
        tasks.wait().await;
    }
    match shared.pg.run(repo::release(&shared.pg, &shared.config.id)).await {
        Ok(n) if n > 0 => tracing::info!(released = n, "unfinished tasks returned to the queue"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "releasing tasks failed; the reaper will return them"),
    }
    listener.abort();
    upkeep.abort();
}

/// Whether any source of `platform` has a usable credential (else its flows are not claimed).
async fn runnable(shared: &Shared, platform: Platform) -> bool {
    let sources: Vec<String> =
        shared.refresher.sources.get(&platform).map(|s| s.iter().map(|s| s.name.clone()).collect()).unwrap_or_default();
    shared.refresher.credentials.any_usable(&sources).await.unwrap_or(false)
}

async fn flow_loop(
    shared: Arc<Shared>,
    flow: Flow,
    tasks: tokio_util::task::TaskTracker,
    stop: CancellationToken,
    abandon: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(flow.concurrency.max(1)));
    let flows = vec![flow.name.clone()];
    loop {
        if stop.is_cancelled() {
            return;
        }
        let free = slots.available_permits();
        let mut claimed = Vec::new();
        if free > 0 && runnable(&shared, flow.platform).await {
            let started = std::time::Instant::now();
            match shared
                .pg
                .run(repo::claim(&shared.pg, &shared.config.id, &flows, free as i64, shared.config.lease))
                .await
            {
                Ok(t) => claimed = t,
                Err(e) => tracing::warn!(flow = %flow.name, error = %e, "claim failed"),
            }
            metrics::histogram!("beat_queue_claim_duration_seconds").record(started.elapsed().as_secs_f64());
        }
        let got = claimed.len();
        for task in claimed {
            let Ok(permit) = slots.clone().try_acquire_owned() else { break };
            shared.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(task.id);
            let (shared, flow, abandon) = (shared.clone(), flow.clone(), abandon.clone());
            tasks.spawn(async move {
                tokio::select! {
                    () = abandon.cancelled() => {}
                    () = execute(&shared, &flow, task) => {}
                }
                drop(permit);
            });
        }
        if got == free && free > 0 {
            continue; // there may be more
        }
        // idle or full: wait for a notification, a finished task, or the poll
        tokio::select! {
            () = stop.cancelled() => return,
            () = shared.wake.notified() => {}
            () = tokio::time::sleep(shared.config.poll) => {}
        }
    }
}

/// How long a task waits when beat's limit store was away (its timeouts plus a reconnect).
const LIMITS_DEFERRAL: Duration = Duration::from_secs(5);

async fn execute(shared: &Shared, flow: &Flow, task: Task) {
    let started = std::time::Instant::now();
    let outcome = match Handle::parse(flow.platform, &task.target) {
        Err(e) => Err(Failure::Permanent { error: e.to_string() }),
        Ok(handle) => match shared.refresher.run(&handle, flow.depth, Some(task.id)).await {
            Ok(_) => Ok(()),
            Err(RefreshError::NotFound) => Err(Failure::Permanent { error: "no such creator".into() }),
            Err(RefreshError::Throttled { retry_after, .. }) => {
                Err(Failure::Defer { reason: "every source throttled".into(), until: retry_after })
            }
            // beat's own outage: the task waits for it without spending an attempt
            Err(RefreshError::LimitsUnavailable { .. }) => {
                Err(Failure::Defer { reason: crate::pipeline::LIMITS_UNAVAILABLE.into(), until: LIMITS_DEFERRAL })
            }
            Err(e) => Err(Failure::Retry {
                error: platform::problem::error_chain(&e),
                backoff: repo::backoff(task.attempts, shared.config.retry_base, shared.config.retry_cap),
            }),
        },
    };
    let (label, recorded) = match &outcome {
        Ok(()) => ("succeeded", shared.pg.run(repo::complete(&shared.pg, &shared.config.id, task.id)).await),
        Err(f) => (
            match f {
                Failure::Retry { .. } => "retried",
                Failure::Permanent { .. } => "failed",
                Failure::Defer { .. } => "deferred",
            },
            shared.pg.run(repo::fail(&shared.pg, &shared.config.id, task.id, f)).await,
        ),
    };
    match recorded {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(task = task.id, "lease lost before the result was recorded; the new owner's stands")
        }
        Err(e) => {
            tracing::error!(task = task.id, error = %e, "recording the outcome failed; the reaper will return it")
        }
    }
    metrics::counter!("beat_queue_tasks_total", "flow" => flow.name.clone(), "outcome" => label).increment(1);
    metrics::histogram!("beat_queue_task_duration_seconds", "flow" => flow.name.clone())
        .record(started.elapsed().as_secs_f64());
    shared.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&task.id);
    shared.wake.notify_waiters();
}

/// LISTEN on the queue's channel and wake the flow loops on every notification.
async fn listen(shared: Arc<Shared>, stop: CancellationToken) {
    loop {
        let result = async {
            let mut listener = PgListener::connect_with(shared.pg.pool()).await?;
            listener.listen(repo::CHANNEL).await?;
            loop {
                listener.recv().await?;
                shared.wake.notify_waiters();
            }
            #[allow(unreachable_code)]
            Ok::<(), sqlx::Error>(())
        };
        tokio::select! {
            () = stop.cancelled() => return,
            r = result => if let Err(e) = r {
                tracing::warn!(error = %e, "queue notifications lost; polling until they are back");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Heartbeats, the reaper, retention and the depth gauges.
async fn upkeep(shared: Arc<Shared>, stop: CancellationToken) {
    let beat = shared.config.lease / 3;
    let hour = Duration::from_secs(3600);
    let mut last_prune = std::time::Instant::now().checked_sub(hour).unwrap_or_else(std::time::Instant::now);
    // the first schedule comes one interval after start, so a fleet restarting together does
    // not enqueue at once (duplicates would merge anyway) and a fresh dev stack keeps its data
    let mut last_schedule = std::time::Instant::now();
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(beat) => {}
        }
        let ids: Vec<i64> =
            shared.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().copied().collect();
        if !ids.is_empty() {
            if let Ok(held) =
                shared.pg.run(repo::heartbeat(&shared.pg, &shared.config.id, &ids, shared.config.lease)).await
            {
                let lost = ids.len() - held.len();
                if lost > 0 {
                    metrics::counter!("beat_queue_leases_lost_total").increment(lost as u64);
                }
            }
        }
        match shared.pg.run(repo::reap(&shared.pg)).await {
            Ok(reaped) if !reaped.is_empty() => {
                metrics::counter!("beat_queue_reaped_total").increment(reaped.len() as u64);
                shared.wake.notify_waiters();
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reaper failed"),
        }
        if last_prune.elapsed() >= hour {
            last_prune = std::time::Instant::now();
            if let Err(e) = shared.pg.run(repo::prune(&shared.pg, shared.config.retention, 1000)).await {
                tracing::warn!(error = %e, "task retention failed");
            }
            if let Err(e) = shared.pg.run(repo::prune_request_log(&shared.pg, shared.config.retention, 5000)).await {
                tracing::warn!(error = %e, "request log retention failed");
            }
        }
        if last_schedule.elapsed() >= shared.config.schedule_every {
            last_schedule = std::time::Instant::now();
            match shared.pg.run(repo::schedule_stale(&shared.pg, Duration::from_secs(86_400), 10_000)).await {
                Ok(n) if n > 0 => tracing::info!(enqueued = n, "daily refresh of tracked creators scheduled"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "scheduling the daily refresh failed"),
            }
        }
        if let Ok(depth) = shared.pg.run(repo::depth(&shared.pg)).await {
            for (flow, status, n) in depth {
                metrics::gauge!("beat_queue_depth", "flow" => flow, "status" => status).set(n as f64);
            }
        }
    }
}
