//! Named pause points, so a test can force one exact interleaving of concurrent work (a verify
//! that read a session just before a logout, a cache load that finishes after an invalidation)
//! instead of hoping sleeps produce it.
//!
//! Code marks a point with `hooks.pause("identity.verify.before_cache").await`. A test arms it
//! with [`Hooks::arm`]: the next task to reach the point stops there, the test learns it
//! arrived ([`Armed::reached`]), does the competing work, then lets it go ([`Armed::release`]).
//! A point pauses at most once per arming. Services built from configuration get
//! [`Hooks::default`], where nothing is ever armed and a pause is one branch.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

struct Gate {
    reached: oneshot::Sender<()>,
    release: oneshot::Receiver<()>,
}

#[derive(Clone, Default)]
pub struct Hooks(Option<Arc<Mutex<HashMap<&'static str, Gate>>>>);

impl std::fmt::Debug for Hooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Hooks(test)" } else { "Hooks(none)" })
    }
}

/// A point armed by a test.
pub struct Armed {
    reached: oneshot::Receiver<()>,
    release: oneshot::Sender<()>,
}

impl Armed {
    /// Waits until a task is paused at the point.
    pub async fn reached(&mut self) {
        (&mut self.reached).await.expect("the hooks were dropped before the point was reached");
    }

    /// Lets the paused task go on.
    pub fn release(self) {
        let _ = self.release.send(());
    }
}

impl Hooks {
    /// Hooks a test can arm.
    pub fn for_tests() -> Self {
        Self(Some(Arc::default()))
    }

    /// Arms `point`: the next task reaching it pauses until [`Armed::release`].
    pub fn arm(&self, point: &'static str) -> Armed {
        let gates = self.0.as_ref().expect("arm needs Hooks::for_tests()");
        let (reached_tx, reached_rx) = oneshot::channel();
        let (release_tx, release_rx) = oneshot::channel();
        gates.lock().expect("hooks lock").insert(point, Gate { reached: reached_tx, release: release_rx });
        Armed { reached: reached_rx, release: release_tx }
    }

    /// Pauses here if a test armed `point`.
    pub async fn pause(&self, point: &'static str) {
        let Some(gates) = &self.0 else { return };
        let gate = gates.lock().expect("hooks lock").remove(point);
        if let Some(gate) = gate {
            let _ = gate.reached.send(());
            let _ = gate.release.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_armed_point_pauses_once_until_released() {
        let hooks = Hooks::for_tests();
        let mut armed = hooks.arm("p");
        let task = tokio::spawn({
            let hooks = hooks.clone();
            async move {
                hooks.pause("p").await;
                hooks.pause("p").await; // not armed again: passes
            }
        });
        armed.reached().await;
        assert!(!task.is_finished());
        armed.release();
        task.await.unwrap();
        Hooks::default().pause("p").await;
    }
}
