//! Rate-limit configuration in its compact form (`daily=20000/1day;calendar,minute=60/1m`),
//! read from the environment at start-up: any text is a validated stack or a clear error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use ratelimit::{Limit, StackPolicy};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (name, limits) = text.split_once('\n').unwrap_or(("fuzz", text));
    if let Ok(policy) = StackPolicy::parse(name, limits) {
        assert!(!policy.limits().is_empty());
        assert!(policy.lease_units() >= 1);
    }
    let _ = text.parse::<Limit>();
});
