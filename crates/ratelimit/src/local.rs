//! The in-process over-limit cache: a level that Redis said is exhausted until some instant is
//! remembered, and checks that include it are rejected locally until then, without a round
//! trip (as Envoy's local over-limit cache does).
//!
//! It can only ever reject, never admit, so it never lets more through than Redis would. It
//! rejects no more than Redis would either: budgets are never refunded, so a level exhausted for
//! a cost stays exhausted for that cost (or more) until `retry_after` has passed, and the
//! remembered instant is measured from when the request was sent, before Redis decided. Only
//! an operator deleting keys by hand could make Redis admit earlier.

use std::time::{Duration, Instant};

#[derive(Clone, Copy)]
struct Exhausted {
    level: usize,
    until: Instant,
    cost: u64,
}

#[derive(Clone)]
pub(crate) struct OverLimitCache {
    entries: moka::sync::Cache<String, Exhausted, foldhash::fast::RandomState>,
}

impl OverLimitCache {
    pub(crate) fn new(capacity: u64) -> Self {
        // entries also lapse by `until`; the time-to-live only bounds how long a long rejection
        // (a daily quota) is kept before Redis is asked again
        Self {
            entries: moka::sync::Cache::builder()
                .max_capacity(capacity)
                .time_to_live(Duration::from_secs(3600))
                .build_with_hasher(foldhash::fast::RandomState::default()),
        }
    }

    /// The level (index) that is known to reject `cost` now, and for how much longer.
    pub(crate) fn lookup(&self, keys: &[String], cost: u64) -> Option<(usize, Duration)> {
        let now = Instant::now();
        keys.iter()
            .filter_map(|k| self.entries.get(k))
            .find_map(|e| (e.until > now && cost >= e.cost).then(|| (e.level, e.until - now)))
    }

    pub(crate) fn remember(&self, key: &str, level: usize, until: Instant, cost: u64) {
        self.entries.insert(key.to_owned(), Exhausted { level, until, cost });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_only_for_as_long_and_as_much_as_remembered() {
        let cache = OverLimitCache::new(10);
        let keys = vec!["a".to_owned(), "b".to_owned()];
        assert_eq!(cache.lookup(&keys, 1), None);
        cache.remember("b", 1, Instant::now() + Duration::from_millis(50), 2);
        assert_eq!(cache.lookup(&keys, 1).map(|(l, _)| l), None, "a smaller cost may still fit");
        let (level, left) = cache.lookup(&keys, 2).unwrap();
        assert_eq!(level, 1);
        assert!(left <= Duration::from_millis(50));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.lookup(&keys, 2), None, "lapses when Redis would admit again");
    }
}
