//! The answer to one check, and how it is told to an HTTP client.
//!
//! Headers follow the IETF httpapi draft "RateLimit header fields for HTTP": `RateLimit-Policy`
//! lists every level's quota (`q`) and window (`w`), `RateLimit` every level's remaining units
//! (`r`) and seconds until it is whole again (`t`), and a rejection adds `Retry-After`.

use std::sync::Arc;
use std::time::Duration;

use axum::response::{IntoResponseParts, ResponseParts};
use http::{HeaderMap, HeaderName, HeaderValue};

use crate::limit::Limit;

/// One level's state after the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelState {
    pub name: String,
    /// The quota: `requests` of the level.
    pub quota: u64,
    pub window: Duration,
    /// Units still available now (after the charge, when admitted).
    pub remaining: u64,
    /// Until the level is whole again: the GCRA bucket empty, or the calendar window's end.
    pub reset: Duration,
}

impl LevelState {
    pub(crate) fn new(limit: &Limit, remaining: u64, reset: Duration) -> Self {
        Self { name: limit.name().to_owned(), quota: limit.requests(), window: limit.period(), remaining, reset }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    /// Every level, in stack order; empty when `degraded`. Shared: a leased unit reports the
    /// levels of its lease without copying them.
    pub levels: Arc<[LevelState]>,
    /// Redis could not decide and the stack fails open: admitted without being counted.
    pub degraded: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The level that binds longest: after `retry_after` it admits this cost again (the others
    /// already would, unless the traffic of others moved them meanwhile).
    pub level: String,
    pub retry_after: Duration,
    /// Every level, in stack order, as it was (nothing was charged). Empty when `local`.
    pub levels: Arc<[LevelState]>,
    /// Decided in process from a remembered rejection, without asking Redis.
    pub local: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Admitted(Admitted),
    Rejected(Rejected),
}

impl Decision {
    pub fn is_admitted(&self) -> bool {
        matches!(self, Self::Admitted(_))
    }

    pub fn levels(&self) -> &[LevelState] {
        match self {
            Self::Admitted(a) => &a.levels,
            Self::Rejected(r) => &r.levels,
        }
    }

    /// The level named `name`, when the decision knows it.
    pub fn level(&self, name: &str) -> Option<&LevelState> {
        self.levels().iter().find(|l| l.name == name)
    }

    /// The `RateLimit-Policy`, `RateLimit` and (when rejected) `Retry-After` headers.
    pub fn headers(&self) -> RateLimitHeaders {
        let mut map = HeaderMap::with_capacity(3);
        let levels = self.levels();
        if !levels.is_empty() {
            // built by hand into two buffers: this runs for every limited response
            let (mut policy, mut state) =
                (String::with_capacity(32 * levels.len()), String::with_capacity(32 * levels.len()));
            let mut digits = itoa::Buffer::new();
            for (i, l) in levels.iter().enumerate() {
                for (buffer, first, second) in [
                    (&mut policy, (";q=", l.quota), (";w=", l.window)),
                    (&mut state, (";r=", l.remaining), (";t=", l.reset)),
                ] {
                    if i > 0 {
                        buffer.push_str(", ");
                    }
                    buffer.push('"');
                    buffer.push_str(&l.name);
                    buffer.push('"');
                    buffer.push_str(first.0);
                    buffer.push_str(digits.format(first.1));
                    buffer.push_str(second.0);
                    buffer.push_str(digits.format(whole_secs(second.1)));
                }
            }
            insert(&mut map, RATELIMIT_POLICY, policy);
            insert(&mut map, RATELIMIT, state);
        }
        if let Self::Rejected(r) = self {
            insert(&mut map, http::header::RETRY_AFTER, whole_secs(r.retry_after).max(1).to_string());
        }
        RateLimitHeaders(map)
    }
}

pub const RATELIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
pub const RATELIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// Seconds, rounded up: a client told to wait must not come back early.
fn whole_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn insert(map: &mut HeaderMap, name: HeaderName, value: String) {
    // level names are validated to a-z0-9_- and the rest are digits: always a valid value
    if let Ok(v) = HeaderValue::try_from(value) {
        map.insert(name, v);
    }
}

/// The headers of a [`Decision`]: put them in an axum response tuple, or write them onto any
/// `http` response with [`RateLimitHeaders::write_to`].
#[derive(Debug, Clone, Default)]
pub struct RateLimitHeaders(pub HeaderMap);

impl RateLimitHeaders {
    pub fn write_to<B>(self, response: &mut http::Response<B>) {
        response.headers_mut().extend(self.0);
    }
}

impl IntoResponseParts for RateLimitHeaders {
    type Error = std::convert::Infallible;

    fn into_response_parts(self, mut res: ResponseParts) -> Result<ResponseParts, Self::Error> {
        res.headers_mut().extend(self.0);
        Ok(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level(name: &str, quota: u64, window: u64, remaining: u64, reset_ms: u64) -> LevelState {
        LevelState {
            name: name.into(),
            quota,
            window: Duration::from_secs(window),
            remaining,
            reset: Duration::from_millis(reset_ms),
        }
    }

    #[test]
    fn rejection_headers_follow_the_draft() {
        let d = Decision::Rejected(Rejected {
            level: "handle".into(),
            retry_after: Duration::from_millis(250),
            levels: vec![level("daily", 20000, 86400, 19999, 4320), level("handle", 1, 1, 0, 250)].into(),
            local: false,
        });
        let h = d.headers().0;
        assert_eq!(h["ratelimit-policy"], "\"daily\";q=20000;w=86400, \"handle\";q=1;w=1");
        assert_eq!(h["ratelimit"], "\"daily\";r=19999;t=5, \"handle\";r=0;t=1");
        assert_eq!(h["retry-after"], "1");
    }

    #[test]
    fn admitted_has_no_retry_after_and_degraded_has_no_state() {
        let d = Decision::Admitted(Admitted { levels: vec![level("m", 60, 60, 59, 1000)].into(), degraded: false });
        assert!(!d.headers().0.contains_key("retry-after"));
        let degraded = Decision::Admitted(Admitted { levels: Arc::new([]), degraded: true });
        assert!(degraded.headers().0.is_empty());
        let mut resp = http::Response::new(());
        d.headers().write_to(&mut resp);
        assert_eq!(resp.headers()["ratelimit"], "\"m\";r=59;t=1");
    }
}
