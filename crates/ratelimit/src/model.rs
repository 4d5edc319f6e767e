//! The script's arithmetic against a reference model written in Rust, on the real test stack's
//! Redis: random stacks (GCRA and calendar levels, bursts, periods from a second to a day) take
//! random sequences of checks at random instants, and every decision (which level binds, the
//! retry, each level's remaining units and reset) must match the model exactly. The clock is
//! given to the script (its test-only override of Redis `TIME`) so instants are reproducible.

use std::collections::HashMap;
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::limit::{Algorithm, Limit, StackPolicy};
use crate::{Decision, Limiter};

/// What one decision says, in the script's units (microseconds).
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    binding: Option<usize>,
    retry_us: u64,
    levels: Vec<(u64, u64)>,
}

#[derive(Clone, Copy)]
enum State {
    Tat(u64),
    Window { start_ms: u64, count: u64 },
}

/// The reference: a plain in-memory implementation of both algorithms.
#[derive(Default)]
struct Model {
    state: HashMap<(usize, u8), State>,
}

impl Model {
    fn decide(&mut self, limits: &[Limit], keys: &[u8], cost: u64, now: u64) -> Outcome {
        let mut writes = Vec::new();
        let (mut binding, mut retry_us) = (None, 0u64);
        let (mut as_is, mut charged) = (Vec::new(), Vec::new());
        for (i, l) in limits.iter().enumerate() {
            let slot = (i, keys[i]);
            let retry = match l.algorithm() {
                Algorithm::Gcra => {
                    let interval = (l.period().as_micros() as u64).div_ceil(l.requests());
                    let horizon = interval * l.capacity();
                    let tat = match self.state.get(&slot) {
                        Some(State::Tat(t)) => (*t).max(now),
                        _ => now,
                    };
                    let new_tat = tat + cost * interval;
                    as_is.push((horizon.saturating_sub(tat - now) / interval, tat - now));
                    charged.push((horizon.saturating_sub(new_tat - now) / interval, new_tat - now));
                    if new_tat - now > horizon {
                        Some(new_tat - now - horizon)
                    } else {
                        writes.push((slot, State::Tat(new_tat)));
                        None
                    }
                }
                Algorithm::Calendar => {
                    let period = l.period().as_millis() as u64;
                    let now_ms = now / 1000;
                    let start_ms = now_ms - now_ms % period;
                    let count = match self.state.get(&slot) {
                        Some(State::Window { start_ms: s, count }) if *s == start_ms => *count,
                        _ => 0,
                    };
                    let reset = (start_ms + period - now_ms) * 1000;
                    as_is.push((l.requests().saturating_sub(count), reset));
                    charged.push((l.requests().saturating_sub(count + cost), reset));
                    if count + cost > l.requests() {
                        Some(reset)
                    } else {
                        writes.push((slot, State::Window { start_ms, count: count + cost }));
                        None
                    }
                }
            };
            if let Some(r) = retry {
                if binding.is_none() || r > retry_us {
                    (binding, retry_us) = (Some(i), r);
                }
            }
        }
        let levels = if binding.is_none() {
            if cost > 0 {
                self.state.extend(writes);
            }
            charged
        } else {
            as_is
        };
        Outcome { binding, retry_us, levels }
    }
}

fn outcome(d: &Decision, policy: &StackPolicy) -> Outcome {
    let levels = d.levels().iter().map(|l| (l.remaining, l.reset.as_micros() as u64)).collect();
    match d {
        Decision::Admitted(_) => Outcome { binding: None, retry_us: 0, levels },
        Decision::Rejected(r) => Outcome {
            binding: policy.limits().iter().position(|l| l.name() == r.level),
            retry_us: r.retry_after.as_micros() as u64,
            levels,
        },
    }
}

fn limit_strategy(i: usize) -> impl Strategy<Value = Limit> {
    let periods = prop::sample::select(vec![1u64, 2, 10, 60, 3600, 86_400]);
    (any::<bool>(), 1u64..20, periods, 0u64..3).prop_map(move |(calendar, requests, secs, burst_extra)| {
        let name = format!("l{i}");
        let period = Duration::from_secs(secs);
        if calendar {
            Limit::calendar(&name, requests, period).unwrap()
        } else {
            let burst = (requests + burst_extra).saturating_sub(1).max(1);
            Limit::gcra(&name, requests, period).unwrap().with_burst(burst).unwrap()
        }
    })
}

fn stack_strategy() -> impl Strategy<Value = Vec<Limit>> {
    (1usize..=4).prop_flat_map(|n| (0..n).map(limit_strategy).collect::<Vec<_>>())
}

/// (advance in µs, cost, key of the last level)
fn ops_strategy() -> impl Strategy<Value = Vec<(u64, u64, u8)>> {
    let advance = prop_oneof![Just(0u64), 0u64..2_000, 0u64..2_000_000, 0u64..90_000_000];
    prop::collection::vec((advance, 0u64..=3, 0u8..2), 1..40)
}

#[test]
fn the_script_matches_the_reference_model() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let conn = rt.block_on(async {
        redis::Client::open(testkit::redis_url()).unwrap().get_multiplexed_async_connection().await.unwrap()
    });
    let mut runner = TestRunner::new(Config { cases: 200, ..Config::default() });
    let start = 1_700_000_000_000_000u64..1_800_000_000_000_000u64;
    let result = runner.run(&(stack_strategy(), ops_strategy(), start), |(limits, ops, start)| {
        let policy = StackPolicy::new("model", limits.clone()).unwrap().local_cache(false);
        let limiter = Limiter::new(conn.clone(), &testkit::redis_prefix()).unwrap();
        let mut model = Model::default();
        let mut now = start;
        for (step, (advance, cost, key)) in ops.into_iter().enumerate() {
            now += advance;
            let last = limits.len() - 1;
            let mut keys = vec![0u8; limits.len()];
            keys[last] = key;
            let stack = limiter.stack(&policy).key(&format!("l{last}"), &key.to_string());
            let actual = rt.block_on(stack.decide(cost, Some(now)));
            if limits.iter().any(|l| cost > l.capacity()) {
                prop_assert!(matches!(actual, Err(crate::Error::CostTooHigh { .. })), "{actual:?}");
                continue;
            }
            let actual = actual.map_err(|e| TestCaseError::fail(e.to_string()))?;
            let expected = model.decide(&limits, &keys, cost, now);
            prop_assert_eq!(outcome(&actual, &policy), expected, "step {} at {} cost {}", step, now, cost);
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
