//! What a limit is, and which limits make sense.
//!
//! A [`Limit`] is a named rate (`requests` per `period`) with an [`Algorithm`]; a [`StackPolicy`]
//! is an ordered list of limits that are decided together, plus what to do when Redis cannot
//! answer. Both come from configuration (serde, or the compact [`FromStr`] form used in
//! environment variables) and are validated when they are built, so a zero rate, an unaligned
//! calendar period or two levels with one name stop a service at start-up, named, instead of
//! misbehaving under load.

use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::limiter::StackMetrics;

/// How a level counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Algorithm {
    /// Generic cell rate algorithm: a rolling window kept as one timestamp. `requests` per
    /// `period` refill continuously, at most `burst` (default `requests`) at once, so there is
    /// no double burst where one fixed window ends and the next begins.
    #[default]
    Gcra,
    /// A fixed window aligned to UTC (whole days, hours, minutes or seconds since the Unix
    /// epoch), kept as one counter: for provider quotas that reset at midnight.
    Calendar,
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Gcra => "gcra",
            Self::Calendar => "calendar",
        })
    }
}

/// A limit or policy that cannot work, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidLimit(String);

impl From<String> for InvalidLimit {
    fn from(msg: String) -> Self {
        Self(msg)
    }
}

fn invalid(msg: impl Into<String>) -> InvalidLimit {
    InvalidLimit(msg.into())
}

const DAY: Duration = Duration::from_secs(86_400);
const MAX_PERIOD: Duration = Duration::from_secs(366 * 86_400);
const MAX_REQUESTS: u64 = 1_000_000_000;

/// Names end up in Redis keys, metric labels and `RateLimit` header strings.
fn check_name(what: &str, name: &str) -> Result<(), InvalidLimit> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(invalid(format!("{what} name {name:?} must be 1-64 characters of a-z, 0-9, '_' or '-'")))
    }
}

/// One level: `requests` per `period`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "LimitSpec", into = "LimitSpec")]
pub struct Limit {
    name: String,
    requests: u64,
    period: Duration,
    algorithm: Algorithm,
    burst: u64,
}

/// The configuration shape of a [`Limit`], checked by [`Limit::try_from`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSpec {
    pub name: String,
    /// Signed, so that a negative value gets this crate's message rather than serde's.
    pub requests: i64,
    /// `"1s"`, `"1m"`, `"24h"`, `"1day"` …
    #[serde(with = "humantime_serde")]
    pub period: Duration,
    #[serde(default)]
    pub algorithm: Algorithm,
    /// GCRA only: how many may pass at once (default: `requests`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<i64>,
}

impl TryFrom<LimitSpec> for Limit {
    type Error = InvalidLimit;

    fn try_from(spec: LimitSpec) -> Result<Self, InvalidLimit> {
        let LimitSpec { name, requests, period, algorithm, burst } = spec;
        check_name("limit", &name)?;
        let positive = |what: &str, v: i64| -> Result<u64, InvalidLimit> {
            match u64::try_from(v) {
                Ok(v) if (1..=MAX_REQUESTS).contains(&v) => Ok(v),
                _ => Err(invalid(format!("limit {name:?}: {what} must be between 1 and {MAX_REQUESTS}, not {v}"))),
            }
        };
        let requests = positive("requests", requests)?;
        if period.is_zero() || period > MAX_PERIOD {
            return Err(invalid(format!(
                "limit {name:?}: period must be more than zero and at most 366 days, not {}",
                humantime::format_duration(period)
            )));
        }
        let burst = match (algorithm, burst) {
            (_, None) => requests,
            (Algorithm::Gcra, Some(b)) => positive("burst", b)?,
            (Algorithm::Calendar, Some(_)) => {
                return Err(invalid(format!("limit {name:?}: burst applies to gcra limits only")));
            }
        };
        match algorithm {
            Algorithm::Gcra => {
                if period.as_micros() < u128::from(requests) {
                    return Err(invalid(format!(
                        "limit {name:?}: {requests} per {} is more than one per microsecond",
                        humantime::format_duration(period)
                    )));
                }
            }
            Algorithm::Calendar => {
                let aligned = period.subsec_nanos() == 0
                    && (DAY.as_secs() % period.as_secs() == 0 || period.as_secs() % DAY.as_secs() == 0);
                if !aligned {
                    return Err(invalid(format!(
                        "limit {name:?}: a calendar period must be whole seconds that divide a day or a whole number \
                         of days, not {}",
                        humantime::format_duration(period)
                    )));
                }
            }
        }
        Ok(Self { name, requests, period, algorithm, burst })
    }
}

impl From<Limit> for LimitSpec {
    fn from(l: Limit) -> Self {
        let burst = (l.algorithm == Algorithm::Gcra && l.burst != l.requests).then_some(l.burst as i64);
        Self { name: l.name, requests: l.requests as i64, period: l.period, algorithm: l.algorithm, burst }
    }
}

impl Limit {
    /// A GCRA limit: `requests` per `period`, all of them at once at most.
    pub fn gcra(name: &str, requests: u64, period: Duration) -> Result<Self, InvalidLimit> {
        Self::from_parts(name, requests, period, Algorithm::Gcra, None)
    }

    /// A calendar window limit: `requests` per UTC-aligned `period`.
    pub fn calendar(name: &str, requests: u64, period: Duration) -> Result<Self, InvalidLimit> {
        Self::from_parts(name, requests, period, Algorithm::Calendar, None)
    }

    /// This GCRA limit with another burst (1 = evenly spaced, never two at once).
    pub fn with_burst(self, burst: u64) -> Result<Self, InvalidLimit> {
        Self::from_parts(&self.name, self.requests, self.period, self.algorithm, Some(burst))
    }

    fn from_parts(
        name: &str,
        requests: u64,
        period: Duration,
        algorithm: Algorithm,
        burst: Option<u64>,
    ) -> Result<Self, InvalidLimit> {
        let signed = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        LimitSpec { name: name.to_owned(), requests: signed(requests), period, algorithm, burst: burst.map(signed) }
            .try_into()
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn requests(&self) -> u64 {
        self.requests
    }

    pub fn period(&self) -> Duration {
        self.period
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The most one decision can ever take from this level.
    pub fn capacity(&self) -> u64 {
        match self.algorithm {
            Algorithm::Gcra => self.burst,
            Algorithm::Calendar => self.requests,
        }
    }

    /// GCRA's emission interval in microseconds, rounded up (so never more than the rate).
    pub(crate) fn interval_us(&self) -> u64 {
        let period = self.period.as_micros() as u64;
        period.div_ceil(self.requests)
    }

    /// The script's three arguments for this level.
    pub(crate) fn script_args(&self) -> (&'static str, u64, u64) {
        match self.algorithm {
            Algorithm::Gcra => ("g", self.interval_us(), self.burst),
            Algorithm::Calendar => ("c", self.requests, self.period.as_millis() as u64),
        }
    }
}

/// `name=requests/period`, optionally followed by `;calendar`, `;gcra` or `;burst=N`:
/// `daily=20000/1day;calendar`, `minute=60/1m`, `handle=1/1s;burst=1`.
impl FromStr for Limit {
    type Err = InvalidLimit;

    fn from_str(s: &str) -> Result<Self, InvalidLimit> {
        let mut parts = s.trim().split(';');
        let head = parts.next().unwrap_or_default();
        let shape = || invalid(format!("{s:?} is not name=requests/period (e.g. minute=60/1m)"));
        let (name, rate) = head.split_once('=').ok_or_else(shape)?;
        let (requests, period) = rate.split_once('/').ok_or_else(shape)?;
        let requests: i64 =
            requests.trim().parse().map_err(|_| invalid(format!("{s:?}: requests {requests:?} is not a number")))?;
        let period = humantime::parse_duration(period.trim())
            .map_err(|e| invalid(format!("{s:?}: period {period:?} is not a duration ({e})")))?;
        let mut spec =
            LimitSpec { name: name.trim().to_owned(), requests, period, algorithm: Algorithm::Gcra, burst: None };
        for option in parts.map(str::trim) {
            match option.split_once('=') {
                None if option == "gcra" => spec.algorithm = Algorithm::Gcra,
                None if option == "calendar" => spec.algorithm = Algorithm::Calendar,
                Some(("burst", n)) => {
                    spec.burst =
                        Some(n.trim().parse().map_err(|_| invalid(format!("{s:?}: burst {n:?} is not a number")))?);
                }
                _ => return Err(invalid(format!("{s:?}: unknown option {option:?} (gcra, calendar or burst=N)"))),
            }
        }
        spec.try_into()
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}/{}", self.name, self.requests, humantime::format_duration(self.period))?;
        match self.algorithm {
            Algorithm::Calendar => f.write_str(";calendar"),
            Algorithm::Gcra if self.burst != self.requests => write!(f, ";burst={}", self.burst),
            Algorithm::Gcra => Ok(()),
        }
    }
}

/// What a stack does when Redis errors or does not answer within the stack's timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureMode {
    /// Refuse ([`crate::Error::Unavailable`]): for budgets that cost money, such as paid APIs.
    #[default]
    Closed,
    /// Admit, marked [`crate::Admitted::degraded`]: for limits that protect a service but must
    /// not take it down with Redis.
    Open,
}

/// The default bound on one decision's round trip.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(100);

/// An ordered list of levels decided together, and how to behave when Redis fails.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "StackSpec", into = "StackSpec")]
pub struct StackPolicy {
    name: String,
    limits: Vec<Limit>,
    on_failure: FailureMode,
    timeout: Duration,
    local_cache: bool,
    lease: u64,
    /// Registered on first use, after the service installed its metrics recorder.
    pub(crate) metrics: Arc<OnceLock<StackMetrics>>,
}

impl PartialEq for StackPolicy {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, &self.limits, self.on_failure, self.timeout, self.local_cache, self.lease)
            == (&other.name, &other.limits, other.on_failure, other.timeout, other.local_cache, other.lease)
    }
}

impl Eq for StackPolicy {}

/// The configuration shape of a [`StackPolicy`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackSpec {
    pub name: String,
    pub limits: Vec<Limit>,
    #[serde(default)]
    pub on_failure: FailureMode,
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Reject locally, without a round trip, while a level is known to be exhausted.
    #[serde(default = "yes")]
    pub local_cache: bool,
    /// Take up to this many units per round trip and spend them in process (see
    /// [`StackPolicy::with_lease`]); 1 (the default) asks Redis every time.
    #[serde(default = "one")]
    pub lease: u64,
}

fn one() -> u64 {
    1
}

fn default_timeout() -> Duration {
    DEFAULT_TIMEOUT
}

fn yes() -> bool {
    true
}

impl TryFrom<StackSpec> for StackPolicy {
    type Error = InvalidLimit;

    fn try_from(spec: StackSpec) -> Result<Self, InvalidLimit> {
        let StackSpec { name, limits, on_failure, timeout, local_cache, lease } = spec;
        if lease == 0 || lease > 10_000 {
            return Err(invalid(format!("stack {name:?}: lease must be 1 to 10000 units, not {lease}")));
        }
        check_name("stack", &name)?;
        if limits.is_empty() {
            return Err(invalid(format!("stack {name:?} has no limits")));
        }
        if limits.len() > 16 {
            return Err(invalid(format!("stack {name:?} has {} limits; 16 at most", limits.len())));
        }
        for (i, l) in limits.iter().enumerate() {
            if limits[..i].iter().any(|o| o.name == l.name) {
                return Err(invalid(format!("stack {name:?} names the level {:?} twice", l.name)));
            }
        }
        if timeout.is_zero() || timeout > Duration::from_secs(10) {
            return Err(invalid(format!(
                "stack {name:?}: timeout must be more than zero and at most 10s, not {}",
                humantime::format_duration(timeout)
            )));
        }
        Ok(Self { name, limits, on_failure, timeout, local_cache, lease, metrics: Arc::default() })
    }
}

impl From<StackPolicy> for StackSpec {
    fn from(p: StackPolicy) -> Self {
        Self {
            name: p.name,
            limits: p.limits,
            on_failure: p.on_failure,
            timeout: p.timeout,
            local_cache: p.local_cache,
            lease: p.lease,
        }
    }
}

impl StackPolicy {
    /// A fail-closed stack with the default timeout and the local over-limit cache on.
    pub fn new(name: &str, limits: Vec<Limit>) -> Result<Self, InvalidLimit> {
        StackSpec {
            name: name.to_owned(),
            limits,
            on_failure: FailureMode::Closed,
            timeout: DEFAULT_TIMEOUT,
            local_cache: true,
            lease: 1,
        }
        .try_into()
    }

    /// A stack from a comma-separated list of [`Limit`]s in their compact form.
    pub fn parse(name: &str, limits: &str) -> Result<Self, InvalidLimit> {
        let limits = limits.split(',').filter(|s| !s.trim().is_empty()).map(str::parse).collect::<Result<_, _>>()?;
        Self::new(name, limits)
    }

    #[must_use]
    pub fn on_failure(mut self, mode: FailureMode) -> Self {
        self.on_failure = mode;
        self
    }

    /// Bounds one decision's round trip (1 ms to 10 s).
    pub fn with_timeout(self, timeout: Duration) -> Result<Self, InvalidLimit> {
        StackSpec { timeout, ..self.into() }.try_into()
    }

    /// Lets one process take up to `units` per round trip and spend them locally, for hot keys
    /// under generous limits (an edge limit of thousands per second should not cost a Redis
    /// round trip per request). The lease actually taken is at most a tenth of the tightest
    /// level's capacity, so tight limits stay exact; leased units count against every level
    /// when taken, so a lease never admits more than the limits allow, it may only admit fewer
    /// (units a process leased but did not spend within a second are lost).
    pub fn with_lease(self, units: u64) -> Result<Self, InvalidLimit> {
        StackSpec { lease: units, ..self.into() }.try_into()
    }

    /// The units one round trip takes for a check of one unit (1: no lease).
    pub fn lease_units(&self) -> u64 {
        let tightest = self.limits.iter().map(Limit::capacity).min().unwrap_or(1);
        self.lease.min(tightest / 10).max(1)
    }

    #[must_use]
    pub fn local_cache(mut self, on: bool) -> Self {
        self.local_cache = on;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn limits(&self) -> &[Limit] {
        &self.limits
    }

    pub fn failure_mode(&self) -> FailureMode {
        self.on_failure
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    pub fn uses_local_cache(&self) -> bool {
        self.local_cache
    }

    pub(crate) fn level_index(&self, level: &str) -> Option<usize> {
        self.limits.iter().position(|l| l.name == level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_form_round_trips() {
        for s in ["daily=20000/1day;calendar", "minute=60/1m", "handle=1/1s;burst=1", "burst=10/1s;burst=3"] {
            let limit: Limit = s.parse().unwrap();
            let again: Limit = limit.to_string().parse().unwrap();
            assert_eq!(limit, again, "{s}");
        }
        let l: Limit = "daily=20000/1day;calendar".parse().unwrap();
        assert_eq!((l.requests(), l.period(), l.algorithm()), (20_000, DAY, Algorithm::Calendar));
    }

    #[test]
    fn bad_limits_say_why() {
        let cases = [
            ("m=0/1m", "requests must be between 1"),
            ("m=-5/1m", "requests must be between 1"),
            ("m=5/0s", "period must be more than zero"),
            ("m=5/400days", "at most 366 days"),
            ("m=5/7s;calendar", "divide a day"),
            ("m=5/1500ms;calendar", "divide a day"),
            ("m=5/1s;calendar;burst=2", "burst applies to gcra"),
            ("m=2000000/1s", "more than one per microsecond"),
            ("M=5/1s", "a-z"),
            ("m=5", "not name=requests/period"),
            ("m=x/1s", "is not a number"),
            ("m=5/soon", "is not a duration"),
            ("m=5/1s;sliding", "unknown option"),
            ("m=5/1s;burst=0", "burst must be between 1"),
        ];
        for (s, want) in cases {
            let err = s.parse::<Limit>().unwrap_err().to_string();
            assert!(err.contains(want), "{s}: {err}");
        }
        for ok in ["d=1/2days;calendar", "h=1/1h;calendar", "q=1/15m;calendar", "s=1/1s;calendar"] {
            ok.parse::<Limit>().unwrap();
        }
    }

    #[test]
    fn stacks_are_validated() {
        let m: Limit = "m=1/1s".parse().unwrap();
        assert!(StackPolicy::new("s", vec![]).unwrap_err().to_string().contains("no limits"));
        assert!(StackPolicy::new("s", vec![m.clone(), m.clone()]).unwrap_err().to_string().contains("twice"));
        assert!(StackPolicy::new("S p", vec![m.clone()]).unwrap_err().to_string().contains("stack name"));
        let p = StackPolicy::new("s", vec![m]).unwrap();
        assert!(p.clone().with_timeout(Duration::ZERO).is_err());
        assert_eq!(p.with_timeout(Duration::from_millis(5)).unwrap().timeout(), Duration::from_millis(5));
    }

    #[test]
    fn serde_shapes_validate_too() {
        let policy: StackPolicy = serde_json::from_value(serde_json::json!({
            "name": "refresh",
            "on_failure": "open",
            "timeout": "50ms",
            "limits": [
                {"name": "daily", "requests": 20000, "period": "1day", "algorithm": "calendar"},
                {"name": "minute", "requests": 60, "period": "1m"},
                {"name": "handle", "requests": 1, "period": "1s", "burst": 1}
            ]
        }))
        .unwrap();
        assert_eq!(policy.failure_mode(), FailureMode::Open);
        assert_eq!(policy.limits().len(), 3);
        let back: StackPolicy = serde_json::from_value(serde_json::to_value(&policy).unwrap()).unwrap();
        assert_eq!(back, policy);
        let err = serde_json::from_value::<Limit>(serde_json::json!({"name": "x", "requests": -1, "period": "1s"}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("requests must be between 1"), "{err}");
    }

    #[test]
    fn gcra_interval_rounds_up() {
        let l: Limit = "m=7/1m".parse().unwrap();
        assert_eq!(l.interval_us(), 8_571_429);
        assert_eq!(l.script_args(), ("g", 8_571_429, 7));
        let c: Limit = "d=5/1day;calendar".parse().unwrap();
        assert_eq!(c.script_args(), ("c", 5, 86_400_000));
    }
}
