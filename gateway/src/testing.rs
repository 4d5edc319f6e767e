//! Test support, behind the `testing` feature: the one place the gateway's tests and
//! benchmarks build its environment on the test stack.

use platform::config::RedisClusterConfig;

/// A gateway on loopback (`PORT=0`: a free port) in front of `coffee_url` and `beat_url`, on the
/// Redis Cluster `redis` under `prefix`, checking tokens with the test key coffee signs them
/// with and signing tenant headers with the test tenant key; every edge limit high enough not
/// to interfere (a test of the limits sets its own with [`set`]).
pub fn env(coffee_url: &str, beat_url: &str, prefix: &str, redis: &RedisClusterConfig) -> Vec<(String, String)> {
    [
        ("PORT", "0".to_owned()),
        ("SERVER_HOST", "127.0.0.1".to_owned()),
        ("REDIS_CLUSTER_ADDRESSES", redis.addresses.join(",")),
        ("REDIS_TIMEOUT_MS", redis.timeout.as_millis().to_string()),
        ("REDIS_BREAKER_FAILURES", redis.breaker.failures.to_string()),
        ("REDIS_BREAKER_COOLDOWN", redis.breaker.cooldown.as_secs().to_string()),
        ("HMAC_SECRET", testkit::HMAC_SECRET.to_owned()),
        ("TENANT_SIGNING_SECRET", testkit::TENANT_SIGNING_SECRET.to_owned()),
        ("COFFEE_URL", coffee_url.to_owned()),
        ("BEAT_URL", beat_url.to_owned()),
        ("SESSION_CACHE_TTL", "600".to_owned()),
        ("REDIS_KEY_PREFIX", prefix.to_owned()),
        ("RATE_LIMIT_FREE", "partner=100000/1s".to_owned()),
        ("RATE_LIMIT_SAAS", "partner=100000/1s".to_owned()),
        ("RATE_LIMIT_PAID", "partner=100000/1s".to_owned()),
        ("RATE_LIMIT_CLIENT", "client=100000/1s".to_owned()),
        ("RATE_LIMIT_IP", "ip=100000/1s".to_owned()),
        ("RATE_LIMIT_LOGIN", "login=100000/1s".to_owned()),
        ("RATE_LIMIT_KEY_FAILURES", "key_failures=100000/1s".to_owned()),
        ("API_KEY_USE_REPORT_MS", "200".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// Sets `name` in `env`, replacing what it held.
pub fn set(env: &mut Vec<(String, String)>, name: &str, value: impl Into<String>) {
    env.retain(|(k, _)| k != name);
    env.push((name.to_owned(), value.into()));
}
