//! Leases: for a stack whose policy allows it ([`crate::StackPolicy::with_lease`]), a check of
//! one unit takes several units from Redis in one decision and spends the rest in process, so a
//! hot key under a generous limit (an edge limit of thousands per second) costs one round trip
//! per lease instead of one per request.
//!
//! Leased units are charged to every level when they are taken, so over the whole run a process
//! never admits more than Redis granted; a unit may be spent up to [`LEASE_TTL`] after it was
//! charged, which can shift admissions by that much relative to Redis's windows. Units not spent
//! within the lifetime are dropped (admitting fewer, never more). While a lease is being taken
//! for a set of keys, other checks of the same keys wait for it rather than each taking one.
//! When Redis cannot grant a whole lease, the check falls back to an exact one-unit decision.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::decision::LevelState;

/// How long leased units stay spendable.
pub const LEASE_TTL: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(crate) struct Lease {
    pub(crate) left: u64,
    pub(crate) until: Option<Instant>,
    /// The levels as Redis reported them when the lease was taken (the lease already deducted).
    pub(crate) levels: Vec<LevelState>,
}

impl Lease {
    /// Spends one unit if the lease has one left.
    pub(crate) fn take(&mut self, now: Instant) -> bool {
        if self.left > 0 && self.until.is_some_and(|u| u > now) {
            self.left -= 1;
            true
        } else {
            false
        }
    }
}

#[derive(Clone)]
pub(crate) struct Leases {
    entries: moka::sync::Cache<String, Arc<tokio::sync::Mutex<Lease>>>,
}

impl Leases {
    pub(crate) fn new(capacity: u64) -> Self {
        Self { entries: moka::sync::Cache::builder().max_capacity(capacity).time_to_idle(LEASE_TTL * 10).build() }
    }

    /// The lease of one set of keys.
    pub(crate) fn of(&self, keys: &[String]) -> Arc<tokio::sync::Mutex<Lease>> {
        self.entries.get_with(keys.join("\n"), Arc::default)
    }
}
