//! Leases: for a stack whose policy allows it ([`crate::StackPolicy::with_lease`]), a check of
//! one unit takes several units from Redis in one decision and spends the rest in process, so a
//! hot key under a generous limit (an edge limit of thousands per second) costs one round trip
//! per lease instead of one per request.
//!
//! Leased units are charged to every level when they are taken, so over the whole run a process
//! never admits more than Redis granted; a unit may be spent up to [`LEASE_TTL`] after it was
//! charged, which can shift admissions by that much relative to Redis's windows. Units not spent
//! within the lifetime are dropped (admitting fewer, never more).
//!
//! Spending a unit takes a short lock that is never held across a round trip. When half a lease
//! is spent, the next one is taken in the background while the rest is spent, so a steady flow
//! of checks never waits for Redis; a process then holds at most one and a half leases. Only
//! when a lease is gone before its successor arrives do checks wait, all for the one round trip
//! already under way rather than each taking a lease. When Redis cannot grant a whole lease,
//! the check falls back to an exact one-unit decision.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::decision::LevelState;

/// How long leased units stay spendable.
pub const LEASE_TTL: Duration = Duration::from_secs(1);

/// Units granted by one decision, spendable until `until`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Batch {
    left: u64,
    until: Instant,
}

impl Batch {
    pub(crate) fn new(left: u64, now: Instant) -> Self {
        Self { left, until: now + LEASE_TTL }
    }

    fn spendable(&self, now: Instant) -> bool {
        self.left > 0 && self.until > now
    }
}

pub(crate) struct Held {
    current: Option<Batch>,
    /// Taken ahead, spent once `current` is.
    next: Option<Batch>,
    /// A lease is being taken in the background.
    prefetching: bool,
    /// No lease is taken ahead before this (Redis refused the last one).
    prefetch_after: Option<Instant>,
    /// The levels as Redis reported them when the last lease was taken (the lease deducted).
    pub(crate) levels: Arc<[LevelState]>,
}

/// What spending a unit found.
pub(crate) enum Spent {
    /// A unit was spent; `prefetch` asks the caller to take the next lease in the background.
    Unit { levels: Arc<[LevelState]>, prefetch: bool },
    /// No unit is left in process.
    Empty,
}

impl Default for Held {
    fn default() -> Self {
        Self { current: None, next: None, prefetching: false, prefetch_after: None, levels: Arc::new([]) }
    }
}

impl Held {
    /// Spends one unit if one is left, and says whether the next lease should be taken now.
    pub(crate) fn spend(&mut self, now: Instant, units: u64) -> Spent {
        if !self.current.is_some_and(|b| b.spendable(now)) {
            self.current = self.next.take().filter(|b| b.spendable(now));
        }
        let Some(batch) = self.current.as_mut() else { return Spent::Empty };
        batch.left -= 1;
        let low = batch.left <= units / 2;
        let prefetch =
            low && self.next.is_none() && !self.prefetching && self.prefetch_after.is_none_or(|after| after <= now);
        if prefetch {
            self.prefetching = true;
        }
        Spent::Unit { levels: self.levels.clone(), prefetch }
    }

    /// A lease arrived: spent after what is left, or at once when nothing is.
    pub(crate) fn add(&mut self, batch: Batch, levels: &Arc<[LevelState]>, now: Instant) {
        if self.current.is_some_and(|b| b.spendable(now)) {
            self.next = Some(batch);
        } else {
            self.current = Some(batch);
        }
        self.levels = levels.clone();
    }

    /// The background lease ended; `refused` when Redis could not grant it.
    pub(crate) fn prefetched(&mut self, refused: bool, now: Instant) {
        self.prefetching = false;
        self.prefetch_after = refused.then(|| now + LEASE_TTL);
    }
}

/// The in-process state of one set of keys' lease.
#[derive(Default)]
pub(crate) struct Lease {
    pub(crate) held: Mutex<Held>,
    /// Held by whoever takes a lease while none is left, so the others wait for that one.
    pub(crate) taking: tokio::sync::Mutex<()>,
}

impl Lease {
    pub(crate) fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Clone)]
pub(crate) struct Leases {
    entries: moka::sync::Cache<String, Arc<Lease>, foldhash::fast::RandomState>,
}

impl Leases {
    pub(crate) fn new(capacity: u64) -> Self {
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_idle(LEASE_TTL * 10)
                .build_with_hasher(foldhash::fast::RandomState::default()),
        }
    }

    /// The lease named `key` (see `Stack::lease_key`).
    pub(crate) fn of(&self, key: &str) -> Arc<Lease> {
        match self.entries.get(key) {
            Some(lease) => lease,
            None => self.entries.get_with(key.to_owned(), Default::default),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> Arc<[LevelState]> {
        Arc::new([])
    }

    #[test]
    fn the_next_lease_is_asked_for_once_at_half_and_spent_after_the_current_one() {
        let now = Instant::now();
        let mut held = Held::default();
        assert!(matches!(held.spend(now, 4), Spent::Empty));
        held.add(Batch::new(4, now), &none(), now);
        let prefetches: Vec<bool> = (0..4)
            .map(|_| match held.spend(now, 4) {
                Spent::Unit { prefetch, .. } => prefetch,
                Spent::Empty => panic!("a unit was left"),
            })
            .collect();
        assert_eq!(prefetches, [false, true, false, false], "asked once, when half was spent");
        held.add(Batch::new(4, now), &none(), now);
        held.prefetched(false, now);
        assert!(matches!(held.spend(now, 4), Spent::Unit { .. }), "the next lease is spent");
    }

    #[test]
    fn expired_units_are_never_spent_and_a_refused_lease_is_not_asked_again_at_once() {
        let now = Instant::now();
        let mut held = Held::default();
        held.add(Batch::new(10, now), &none(), now);
        assert!(matches!(held.spend(now + LEASE_TTL, 10), Spent::Empty));
        held.add(Batch::new(2, now), &none(), now);
        held.prefetched(true, now);
        match held.spend(now, 2) {
            Spent::Unit { prefetch, .. } => assert!(!prefetch, "refused a moment ago"),
            Spent::Empty => panic!("a unit was left"),
        }
    }
}
