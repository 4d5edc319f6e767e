//! A circuit breaker for a dependency a service calls per request: Postgres, ClickHouse and
//! Redis under coffee and beat, coffee's identity and partner modules and Redis under the
//! gateway, Redis under the rate limiter. After `failures` consecutive failures (the dependency
//! unreachable or silent; a refused statement does not count) it opens for `cooldown`: callers
//! get an immediate refusal instead of each waiting out a timeout, which would pile requests up
//! behind a dead dependency. Then one trial call is let through; its success closes the
//! breaker, its failure opens it again.
//!
//! [`Breaker::call`] runs one call under a deadline and the breaker, so "silent" is decided the
//! same way everywhere: a frozen server never answers, and only a client-side deadline bounds it.
//!
//! Hand-written because it is a few dozen lines of state over a mutex; the Rust breaker crates
//! either wrap futures in their own policy types (failsafe) or are unmaintained, and none
//! reports its state through the `metrics` facade the services use.

use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How a breaker is tuned: `failures` consecutive failures open it for `cooldown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub failures: u32,
    pub cooldown: Duration,
}

impl Default for Settings {
    /// Five failures in a row open the breaker for five seconds.
    fn default() -> Self {
        Self { failures: 5, cooldown: Duration::from_secs(5) }
    }
}

/// Why a guarded call did not give its own answer, or the error it gave.
#[derive(Debug)]
pub enum Guarded<E> {
    /// The breaker is open: the dependency was not asked. The value is how long until the next
    /// trial, for a `Retry-After`.
    Open(Duration),
    /// The call did not finish within the deadline and was dropped.
    TimedOut(Duration),
    /// The call's own error.
    Failed(E),
}

impl<E: std::fmt::Display> std::fmt::Display for Guarded<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Open(wait) => {
                write!(f, "failing fast after repeated failures (next trial in {} ms)", wait.as_millis())
            }
            Self::TimedOut(deadline) => write!(f, "no answer within {} ms", deadline.as_millis()),
            Self::Failed(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for Guarded<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Failed(e) => Some(e),
            _ => None,
        }
    }
}

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
    pub fn new(gauge: &'static str, name: &'static str, settings: Settings) -> Self {
        metrics::gauge!(gauge, "dependency" => name).set(0.0);
        Self {
            gauge,
            name,
            threshold: settings.failures.max(1),
            cooldown: settings.cooldown,
            state: Mutex::new(State::Closed { failures: 0 }),
        }
    }

    /// Runs `call` if the breaker admits it, dropping it at `deadline`. A timeout counts as a
    /// failure, and so does an error for which `is_outage` says the dependency is unavailable
    /// (rather than the call refused); anything else closes the breaker again.
    pub async fn call<T, E>(
        &self,
        deadline: Duration,
        call: impl Future<Output = Result<T, E>>,
        is_outage: impl FnOnce(&E) -> bool,
    ) -> Result<T, Guarded<E>> {
        self.admit().map_err(Guarded::Open)?;
        match tokio::time::timeout(deadline, call).await {
            Ok(Ok(value)) => {
                self.record(true);
                Ok(value)
            }
            Ok(Err(e)) => {
                self.record(!is_outage(&e));
                Err(Guarded::Failed(e))
            }
            Err(_) => {
                self.record(false);
                Err(Guarded::TimedOut(deadline))
            }
        }
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
        let b =
            Breaker::new("test_breaker_open", "test", Settings { failures: 2, cooldown: Duration::from_millis(50) });
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

    #[tokio::test]
    async fn a_call_past_its_deadline_is_dropped_and_counts_against_the_breaker() {
        let b = Breaker::new("test_breaker_open", "test", Settings { failures: 2, cooldown: Duration::from_secs(60) });
        let deadline = Duration::from_millis(20);
        let refused: Result<(), &str> = Err("refused");
        assert!(matches!(b.call(deadline, async { refused }, |_| false).await, Err(Guarded::Failed("refused"))));
        assert!(!b.is_open(), "a refusal is not an outage");
        let silent = std::future::pending::<Result<(), &str>>();
        assert!(matches!(b.call(deadline, silent, |_| false).await, Err(Guarded::TimedOut(_))));
        let down: Result<(), &str> = Err("connection refused");
        assert!(matches!(b.call(deadline, async { down }, |_| true).await, Err(Guarded::Failed(_))));
        assert!(b.is_open(), "two outages in a row open it");
        let mut asked = false;
        let answer = b
            .call(
                deadline,
                async {
                    asked = true;
                    Ok::<_, &str>(())
                },
                |_| false,
            )
            .await;
        assert!(matches!(answer, Err(Guarded::Open(wait)) if wait > Duration::from_secs(50)));
        assert!(!asked, "an open breaker does not ask the dependency");
    }
}
