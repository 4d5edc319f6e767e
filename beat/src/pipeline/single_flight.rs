//! Concurrent callers asking for the same key share one run of the work: the first caller
//! starts it, later ones wait on the same result, and the entry is gone once it finishes, so
//! the next caller starts afresh (this is not a cache).

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::Mutex;

use futures::future::{BoxFuture, FutureExt, Shared};

pub struct SingleFlight<K, V: Clone> {
    running: Mutex<HashMap<K, Shared<BoxFuture<'static, V>>>>,
}

impl<K, V: Clone> Default for SingleFlight<K, V> {
    fn default() -> Self {
        Self { running: Mutex::new(HashMap::new()) }
    }
}

impl<K: Hash + Eq + Clone, V: Clone + Send + Sync + 'static> SingleFlight<K, V> {
    pub async fn run<F, Fut>(&self, key: K, work: F) -> V
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = V> + Send + 'static,
    {
        let shared = {
            let mut running = self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            running.entry(key.clone()).or_insert_with(|| work().boxed().shared()).clone()
        };
        let value = shared.clone().await;
        let mut running = self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if running.get(&key).is_some_and(|s| s.ptr_eq(&shared)) {
            running.remove(&key);
        }
        value
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn concurrent_callers_share_one_run_and_the_next_starts_afresh() {
        let flight = Arc::new(SingleFlight::<&str, usize>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let call = || {
            let (flight, runs) = (flight.clone(), runs.clone());
            async move {
                flight
                    .run("k", move || async move {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        runs.fetch_add(1, Ordering::SeqCst) + 1
                    })
                    .await
            }
        };
        let results = futures::future::join_all((0..20).map(|_| call())).await;
        assert!(results.iter().all(|r| *r == 1), "{results:?}");
        assert_eq!(call().await, 2, "a finished run is not reused");
    }
}
