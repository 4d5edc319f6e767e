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

/// A flow's name: 1 to 64 lowercase letters, digits, `_` and `-`. Parsed where it enters (a
/// request body or query), so the queue only ever holds and compares valid names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, sqlx::Type)]
#[serde(try_from = "String", into = "String")]
#[sqlx(transparent)]
pub struct FlowName(String);

#[derive(Debug, thiserror::Error)]
#[error("{0:?} is not a flow name (1 to 64 lowercase letters, digits, _ and -)")]
pub struct NotAFlowName(String);

impl TryFrom<String> for FlowName {
    type Error = NotAFlowName;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        let valid = (1..=64).contains(&name.len())
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
        if valid {
            Ok(Self(name))
        } else {
            Err(NotAFlowName(name))
        }
    }
}

impl std::str::FromStr for FlowName {
    type Err = NotAFlowName;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::try_from(name.to_owned())
    }
}

impl From<FlowName> for String {
    fn from(name: FlowName) -> Self {
        name.0
    }
}

impl FlowName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A name beat itself defines ([`worker::flows`]); the flows' test checks each parses.
    pub(crate) fn known(name: &'static str) -> Self {
        Self(name.to_owned())
    }
}

impl std::fmt::Display for FlowName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::FlowName;

    #[test]
    fn flow_names_are_parsed() {
        for ok in ["profile_refresh", "a", "x-1"] {
            assert!(FlowName::try_from(ok.to_owned()).is_ok(), "{ok}");
        }
        for bad in ["", "Profile", "a b", "ü", &"x".repeat(65)] {
            assert!(FlowName::try_from(bad.to_owned()).is_err(), "{bad:?}");
        }
        // the names beat defines for itself (`FlowName::known`) are valid ones
        for known in super::worker::FLOW_NAMES {
            assert!(FlowName::try_from(known.to_owned()).is_ok(), "{known}");
        }
    }
}
