//! The edge's rate limits, each one Redis round trip through `crates/ratelimit` (all levels of a
//! check decided atomically, a rejection charging none):
//! - a partner's requests, by plan, together with its client's (`x-bb-client-id`, else the user);
//! - requests without a session, per client IP;
//! - `/identity/login`, per client IP and per email+IP, so password guessing and argon2-burning
//!   floods stop at the edge;
//! - refused API keys, per client IP: a flood of guessed or stale keys stops at the edge
//!   before it reaches Redis or coffee.
//!
//! Every limited response carries `RateLimit-Policy` and `RateLimit`; a rejection is a 429
//! problem with `Retry-After`. The stacks fail open: when Redis is down or slower than
//! `REDIS_TIMEOUT_MS` the request is admitted (counted as `failed_open` in
//! `ratelimit_decisions_total`), because the limits protect the services and must not take
//! them down with Redis.
//!
//! The client IP is the TCP peer's address. Behind a load balancer every request would share
//! its address; put the limits there or teach this module which proxies to trust.

use std::net::IpAddr;

use ratelimit::{Decision, Limiter, RateLimitHeaders, SlotRouted, StackPolicy};
use tenancy::PlanType;

use crate::config::EdgeLimits;
use crate::error::GatewayError;

pub struct EdgeLimiter {
    limiter: Limiter<SlotRouted>,
    limits: EdgeLimits,
}

/// Who a partner request is counted against.
pub struct PartnerCaller<'a> {
    pub plan: PlanType,
    pub partner_id: i64,
    /// The client id if the caller sent one, else the user.
    pub client: &'a str,
}

impl EdgeLimiter {
    /// `conn` is the Redis Cluster, already wrapped so decisions go straight to their slot's
    /// master; `breaker` tunes the limiter's breaker over it (`REDIS_BREAKER_*`).
    pub fn new(conn: SlotRouted, prefix: &str, limits: EdgeLimits, breaker: breaker::Settings) -> anyhow::Result<Self> {
        Ok(Self { limiter: Limiter::new(conn, prefix)?.with_breaker(breaker), limits })
    }

    /// The limiter's breaker in front of Redis.
    pub fn breaker(&self) -> &breaker::Breaker {
        self.limiter.breaker()
    }

    pub async fn partner(&self, caller: &PartnerCaller<'_>) -> Result<RateLimitHeaders, GatewayError> {
        let policy = self.limits.for_plan(caller.plan);
        let partner = itoa::Buffer::new().format(caller.partner_id).to_owned();
        let mut client = String::with_capacity(partner.len() + 1 + caller.client.len());
        client.push_str(&partner);
        client.push(':');
        client.push_str(caller.client);
        // the client's levels come last
        let first_client_level = policy.limits().len() - self.limits.client_levels;
        self.decide(policy, &partner, |i| if i >= first_client_level { &client } else { &partner }).await
    }

    pub async fn public(&self, ip: IpAddr) -> Result<RateLimitHeaders, GatewayError> {
        let ip = ip.to_string();
        self.decide(&self.limits.public, &ip, |_| &ip).await
    }

    pub async fn login(&self, ip: IpAddr, email: &str) -> Result<RateLimitHeaders, GatewayError> {
        let ip = ip.to_string();
        let ip_levels = self.limits.public.limits().len();
        let email_at_ip = format!("{}|{ip}", email.trim().to_lowercase());
        // the IP's levels come first
        self.decide(&self.limits.login, &ip, |i| if i < ip_levels { &ip } else { &email_at_ip }).await
    }

    /// Whether `ip` may still present keys the edge has to look up (charges nothing).
    pub async fn key_lookups_allowed(&self, ip: IpAddr) -> Result<(), GatewayError> {
        let ip = ip.to_string();
        let policy = &self.limits.key_failures;
        let mut stack = self.limiter.stack(policy).shard(&ip);
        for limit in policy.limits() {
            stack = stack.key(limit.name(), &ip);
        }
        match stack.peek().await {
            Ok(Decision::Rejected(rejected)) => Err(GatewayError::RateLimited(rejected)),
            // a peek charges nothing, so an exhausted level shows as nothing remaining
            Ok(Decision::Admitted(admitted)) => match admitted.levels.iter().find(|l| l.remaining == 0) {
                Some(level) => Err(GatewayError::RateLimited(ratelimit::Rejected {
                    level: level.name.clone(),
                    retry_after: level.window / u32::try_from(level.quota.max(1)).unwrap_or(u32::MAX),
                    levels: admitted.levels.clone(),
                    local: false,
                })),
                None => Ok(()),
            },
            // the limits fail open
            Err(_) => Ok(()),
        }
    }

    /// Counts a refused key against `ip`.
    pub async fn key_refused(&self, ip: IpAddr) -> Result<RateLimitHeaders, GatewayError> {
        let ip = ip.to_string();
        self.decide(&self.limits.key_failures, &ip, |_| &ip).await
    }

    async fn decide<'k>(
        &self,
        policy: &StackPolicy,
        shard: &str,
        key_of: impl Fn(usize) -> &'k str,
    ) -> Result<RateLimitHeaders, GatewayError> {
        let mut stack = self.limiter.stack(policy).shard(shard);
        for (i, limit) in policy.limits().iter().enumerate() {
            stack = stack.key(limit.name(), key_of(i));
        }
        match stack.check(1).await {
            Ok(Decision::Rejected(rejected)) => Err(GatewayError::RateLimited(rejected)),
            Ok(admitted) => Ok(admitted.headers()),
            Err(e) => {
                // only reachable for a stack that fails closed, or a bug in the keys
                tracing::error!(error = %e, stack = policy.name(), "rate limit check failed; admitting");
                Ok(RateLimitHeaders::default())
            }
        }
    }
}
