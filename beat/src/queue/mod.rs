//! beat's work queue on Postgres (`scrape_task`): scheduled and bulk refreshes wait here and
//! workers claim them with `FOR UPDATE SKIP LOCKED`.
//!
//! Hand-written on sqlx rather than taken from a queue library, because a claim has to know
//! about beat's own state: a flow whose sources have no usable credential is not claimed at all,
//! and a task deferred by a rate limit or a benched credential goes back without spending an
//! attempt. The shape follows the well-studied Postgres queues (River, graphile-worker, Oban,
//! Que): one statement claims a batch, a claimed task holds a lease (`locked_by`,
//! `lease_until`) that its worker extends, every outcome is fenced on `locked_by` so a worker
//! that lost its lease cannot overwrite the new owner's result, and a reaper returns expired
//! leases.
//!
//! Duplicates: at most one open (PENDING or RUNNING) task per (flow, platform, target).
//! Enqueuing a duplicate returns the open task; when it is still PENDING (waiting to run, or
//! waiting out a retry's back-off) it takes the higher priority and the earlier `run_after` of
//! the two, so an urgent request is not held back by an earlier failure's back-off, while its
//! attempts count on. A RUNNING task is left alone.

pub mod repo;
pub mod worker;

pub use repo::{Failure, NewTask, Task, TaskStatus};
