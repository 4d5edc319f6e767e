//! A circuit breaker for a dependency a service calls per request (the gateway's calls to
//! coffee's identity and partner modules, coffee's ClickHouse queries). After `threshold` consecutive failures (transport errors, timeouts, 5xx)
//! it opens for `cooldown`: callers get an immediate 503 instead of each waiting out a timeout,
//! which would pile requests up behind a dead dependency. Then one trial call is let through;
//! its success closes the breaker, its failure opens it again.
//!
//! Hand-written because it is a few dozen lines of state over a mutex; the Rust breaker crates
//! either wrap futures in their own policy types (failsafe) or are unmaintained, and none
//! reports its state through the `metrics` facade the services use.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One trial call is out; another is allowed if it has not reported by `retry_at`.
    HalfOpen {
        retry_at: Instant,
    },
}

pub struct Breaker {
    /// The gauge reporting the state (1 open, 0 closed), labelled by `dependency`.
    gauge: &'static str,
    name: &'static str,
    threshold: u32,
    cooldown: Duration,
    state: Mutex<State>,
}

impl Breaker {
    /// A closed breaker for `name`, its state in the gauge `gauge` (e.g. `gateway_breaker_open`).
    pub fn new(gauge: &'static str, name: &'static str, threshold: u32, cooldown: Duration) -> Self {
        metrics::gauge!(gauge, "dependency" => name).set(0.0);
        Self { gauge, name, threshold: threshold.max(1), cooldown, state: Mutex::new(State::Closed { failures: 0 }) }
    }

    /// `Ok` when a call may be made, else how long until the next trial.
    pub fn admit(&self) -> Result<(), Duration> {
        let now = Instant::now();
        let mut state = self.state.lock().expect("breaker lock");
        match *state {
            State::Closed { .. } => Ok(()),
            State::Open { until } | State::HalfOpen { retry_at: until } if until > now => Err(until - now),
            State::Open { .. } | State::HalfOpen { .. } => {
                *state = State::HalfOpen { retry_at: now + self.cooldown };
                Ok(())
            }
        }
    }

    /// Reports the outcome of an admitted call.
    pub fn record(&self, ok: bool) {
        let mut state = self.state.lock().expect("breaker lock");
        let next = match (*state, ok) {
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.threshold => {
                State::Closed { failures: failures + 1 }
            }
            (_, false) => State::Open { until: Instant::now() + self.cooldown },
        };
        let was_open = !matches!(*state, State::Closed { .. });
        let is_open = !matches!(next, State::Closed { .. });
        if was_open != is_open {
            tracing::warn!(dependency = self.name, open = is_open, "circuit breaker changed state");
            metrics::gauge!(self.gauge, "dependency" => self.name).set(if is_open { 1.0 } else { 0.0 });
        }
        *state = next;
    }

    pub fn is_open(&self) -> bool {
        !matches!(*self.state.lock().expect("breaker lock"), State::Closed { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_consecutive_failures_then_lets_one_trial_through() {
        let b = Breaker::new("test_breaker_open", "test", 2, Duration::from_millis(50));
        b.record(false);
        b.record(true); // not consecutive
        b.record(false);
        assert!(b.admit().is_ok());
        b.record(false);
        assert!(b.admit().is_err(), "open after two consecutive failures");
        std::thread::sleep(Duration::from_millis(60));
        assert!(b.admit().is_ok(), "one trial after the cooldown");
        assert!(b.admit().is_err(), "only one");
        b.record(false);
        assert!(b.admit().is_err(), "a failed trial opens it again");
        std::thread::sleep(Duration::from_millis(60));
        assert!(b.admit().is_ok());
        b.record(true);
        assert!(b.admit().is_ok() && b.admit().is_ok() && !b.is_open(), "a good trial closes it");
    }
}
