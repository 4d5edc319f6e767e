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
//! A breaker can also be watched ([`watch`]): a background probe asks the dependency something
//! trivial every few hundred milliseconds, and while the probe finds it silent or unreachable the
//! breaker is held open, so requests are refused within about two seconds of a dependency going
//! silent, instead of each of the first `failures` requests waiting out its deadline; the first
//! probe that is answered again releases it.
//!
//! Hand-written because it is a few dozen lines of state over a mutex; the Rust breaker crates
//! either wrap futures in their own policy types (failsafe) or are unmaintained, and none
//! reports its state through the `metrics` facade the services use.

use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
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
    /// The probe found the dependency silent or unreachable: open until a probe is answered,
    /// whatever calls report meanwhile.
    Held,
}

/// How long a caller refused by a held breaker is asked to wait (the probe decides when it
/// closes, so this is a hint, not a schedule).
const HELD_RETRY: Duration = Duration::from_secs(1);

/// Clones share one state: the services' pools, writers and probes see the same breaker.
#[derive(Clone)]
pub struct Breaker {
    /// The gauge reporting the state (1 open, 0 closed), labelled by `dependency`.
    gauge: &'static str,
    name: &'static str,
    threshold: u32,
    cooldown: Duration,
    state: Arc<Mutex<State>>,
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
            state: Arc::new(Mutex::new(State::Closed { failures: 0 })),
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
            State::Held => Err(HELD_RETRY),
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
            // only the probe releases what it holds
            (State::Held, _) => return,
            (_, true) => State::Closed { failures: 0 },
            (State::Closed { failures }, false) if failures + 1 < self.threshold => {
                State::Closed { failures: failures + 1 }
            }
            (_, false) => State::Open { until: Instant::now() + self.cooldown },
        };
        self.set(&mut state, next);
    }

    fn set(&self, state: &mut State, next: State) {
        let was_open = !matches!(*state, State::Closed { .. });
        let is_open = !matches!(next, State::Closed { .. });
        if was_open != is_open {
            tracing::warn!(dependency = self.name, open = is_open, "circuit breaker changed state");
            metrics::gauge!(self.gauge, "dependency" => self.name).set(if is_open { 1.0 } else { 0.0 });
        }
        *state = next;
    }

    /// Holds the breaker open until [`Breaker::release`]: a probe found the dependency silent
    /// or unreachable.
    pub fn hold_open(&self) {
        let mut state = self.state.lock().expect("breaker lock");
        self.set(&mut state, State::Held);
    }

    /// Ends a hold (a probe was answered); a breaker opened by calls stays as the calls left it.
    pub fn release(&self) {
        let mut state = self.state.lock().expect("breaker lock");
        if matches!(*state, State::Held) {
            self.set(&mut state, State::Closed { failures: 0 });
        }
    }

    pub fn is_open(&self) -> bool {
        !matches!(*self.state.lock().expect("breaker lock"), State::Closed { .. })
    }
}

/// How often a watched dependency is probed, and how long a probe may take before the
/// dependency counts as silent (`<STORE>_PROBE_INTERVAL_MS`, `<STORE>_PROBE_TIMEOUT_MS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeSettings {
    pub every: Duration,
    pub deadline: Duration,
}

impl Default for ProbeSettings {
    /// Every half second, answered within a second: a silent dependency is found within 1.5 s,
    /// a recovered one within 0.5 s.
    fn default() -> Self {
        Self { every: Duration::from_millis(500), deadline: Duration::from_secs(1) }
    }
}

/// A trivial question to a dependency (`SELECT 1`), asked by [`watch`].
pub trait Probe: Send + 'static {
    /// `Err` (with why) when the dependency is unreachable or refuses to answer.
    fn check(&mut self) -> impl Future<Output = Result<(), String>> + Send;
    /// The dependency is no longer used (its pool was closed at shutdown): the probe ends.
    fn retired(&self) -> bool {
        false
    }
}

/// Probes the dependency behind `breaker` in the background, every `settings.every`, each probe
/// dropped at `settings.deadline`: a probe that fails or is not answered holds the breaker open
/// ([`Breaker::hold_open`]), the next one answered releases it. The task ends once the probe is
/// [`Probe::retired`] or every clone of the breaker is gone (the service that owned it has
/// stopped).
pub fn watch(breaker: &Breaker, settings: ProbeSettings, mut probe: impl Probe) -> tokio::task::JoinHandle<()> {
    let weak: Weak<Mutex<State>> = Arc::downgrade(&breaker.state);
    let (gauge, name, threshold, cooldown) = (breaker.gauge, breaker.name, breaker.threshold, breaker.cooldown);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(settings.every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if probe.retired() {
                return;
            }
            let failure = match tokio::time::timeout(settings.deadline, probe.check()).await {
                Ok(Ok(())) => None,
                Ok(Err(why)) => Some(why),
                Err(_) => Some(format!("no answer within {} ms", settings.deadline.as_millis())),
            };
            let Some(state) = weak.upgrade() else { return };
            let breaker = Breaker { gauge, name, threshold, cooldown, state };
            match failure {
                None => breaker.release(),
                Some(why) => {
                    if !matches!(*breaker.state.lock().expect("breaker lock"), State::Held) {
                        tracing::warn!(dependency = name, error = %why, "probe failed; failing fast until it is answered");
                    }
                    breaker.hold_open();
                }
            }
        }
    })
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

    /// A probe that answers as the test says, or never.
    struct Scripted(Arc<Mutex<Option<bool>>>);

    impl Probe for Scripted {
        async fn check(&mut self) -> Result<(), String> {
            let answer = *self.0.lock().unwrap();
            match answer {
                Some(true) => Ok(()),
                Some(false) => Err("refused".into()),
                None => std::future::pending().await,
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_watched_breaker_is_held_open_while_its_probe_goes_unanswered() {
        let b = Breaker::new("test_breaker_open", "test", Settings { failures: 5, cooldown: Duration::from_secs(60) });
        let answer = Arc::new(Mutex::new(Some(true)));
        let every = Duration::from_millis(100);
        let task = watch(&b, ProbeSettings { every, deadline: every }, Scripted(answer.clone()));
        tokio::time::sleep(every * 2).await;
        assert!(b.admit().is_ok());
        *answer.lock().unwrap() = None; // silent
        tokio::time::sleep(every * 3).await;
        assert_eq!(b.admit(), Err(HELD_RETRY), "held open without a single call having failed");
        b.record(true);
        assert!(b.is_open(), "a call's outcome does not end a hold");
        *answer.lock().unwrap() = Some(false); // refusing
        tokio::time::sleep(every * 2).await;
        assert!(b.is_open());
        *answer.lock().unwrap() = Some(true);
        tokio::time::sleep(every * 2).await;
        assert!(!b.is_open() && b.admit().is_ok(), "released by the first answered probe");
        drop(b);
        tokio::time::sleep(every * 2).await;
        assert!(task.is_finished(), "the probe ends with its breaker");
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
