//! A partner's plan (FREE, SAAS, PAID), from its contracts as coffee's `GET /partners/{id}`
//! computes it. A plan is fresh for `PLAN_CACHE_TTL`; after that it is asked for again, but if
//! coffee cannot answer (down, slow, breaker open) the last known plan keeps being served for up
//! to `PLAN_STALE_MAX`: a partner's contracts change rarely, and refusing every request of a
//! known partner because one lookup failed would turn a coffee blip into an outage.

use std::time::{Duration, Instant};

use serde::Deserialize;
use tenancy::PlanType;

use crate::error::GatewayError;
use breaker::Breaker;

#[derive(Deserialize)]
struct PartnerDetail {
    current_plan: PlanType,
}

#[derive(Clone, Copy)]
struct Known {
    plan: PlanType,
    fetched: Instant,
}

/// `gateway_plan_lookups_total{outcome="cached"}`, counted on every request.
fn cached_lookups() -> &'static metrics::Counter {
    static CACHED: std::sync::OnceLock<metrics::Counter> = std::sync::OnceLock::new();
    CACHED.get_or_init(|| metrics::counter!("gateway_plan_lookups_total", "outcome" => "cached"))
}

pub struct PlanResolver {
    cache: moka::future::Cache<i64, Known, foldhash::fast::RandomState>,
    fresh_for: Duration,
    http: reqwest::Client,
    coffee_url: String,
    timeout: Duration,
    breaker: Breaker,
    signing: Option<tenancy::SigningKey>,
}

impl PlanResolver {
    pub fn new(
        http: reqwest::Client,
        coffee_url: &str,
        fresh_for: Duration,
        stale_max: Duration,
        timeout: Duration,
        breaker: Breaker,
        signing: Option<tenancy::SigningKey>,
    ) -> Self {
        Self {
            cache: moka::future::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(stale_max.max(fresh_for))
                .build_with_hasher(foldhash::fast::RandomState::default()),
            fresh_for,
            http,
            coffee_url: coffee_url.to_owned(),
            timeout,
            breaker,
            signing,
        }
    }

    pub async fn plan(&self, partner_id: i64) -> Result<PlanType, GatewayError> {
        // the hit path stays small: the fetch (an HTTP call's whole future) is built, boxed, only
        // when the plan is missing or old
        if let Some(known) = self.cache.get(&partner_id).await {
            if known.fetched.elapsed() < self.fresh_for {
                cached_lookups().increment(1);
                return Ok(known.plan);
            }
        }
        Box::pin(self.plan_from_coffee(partner_id)).await
    }

    async fn plan_from_coffee(&self, partner_id: i64) -> Result<PlanType, GatewayError> {
        let known = self.cache.try_get_with(partner_id, self.fetch(partner_id)).await.map_err(|e| match &*e {
            GatewayError::Forbidden(m) => GatewayError::Forbidden(m.clone()),
            GatewayError::Unavailable { what, retry_after } => {
                GatewayError::Unavailable { what, retry_after: *retry_after }
            }
            other => GatewayError::Upstream { what: "partner", cause: other.to_string() },
        })?;
        if known.fetched.elapsed() < self.fresh_for {
            cached_lookups().increment(1);
            return Ok(known.plan);
        }
        match self.fetch(partner_id).await {
            Ok(fresh) => {
                self.cache.insert(partner_id, fresh).await;
                Ok(fresh.plan)
            }
            Err(GatewayError::Forbidden(m)) => {
                self.cache.invalidate(&partner_id).await;
                Err(GatewayError::Forbidden(m))
            }
            Err(e) => {
                metrics::counter!("gateway_plan_lookups_total", "outcome" => "stale").increment(1);
                tracing::warn!(error = %e, partner_id, "serving the last known plan");
                Ok(known.plan)
            }
        }
    }

    async fn fetch(&self, partner_id: i64) -> Result<Known, GatewayError> {
        if let Err(retry_after) = self.breaker.admit() {
            return Err(GatewayError::Unavailable { what: "partner", retry_after });
        }
        let result = self.call(partner_id).await;
        self.breaker.record(matches!(result, Ok(_) | Err(GatewayError::Forbidden(_))));
        let outcome = if result.is_ok() { "fetched" } else { "failed" };
        metrics::counter!("gateway_plan_lookups_total", "outcome" => outcome).increment(1);
        result.map(|plan| Known { plan, fetched: Instant::now() })
    }

    async fn call(&self, partner_id: i64) -> Result<PlanType, GatewayError> {
        let upstream = |cause: String| GatewayError::Upstream { what: "partner", cause };
        let path = format!("/partners/{partner_id}");
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(tenancy::PARTNER_ID, partner_id.into());
        if let Some(key) = &self.signing {
            key.sign(chrono::Utc::now().timestamp(), &axum::http::Method::GET, &path, &mut headers);
        }
        let request = self.http.get(format!("{}{path}", self.coffee_url)).headers(headers).send();
        let response = match tokio::time::timeout(self.timeout, request).await {
            Err(_) => return Err(GatewayError::UpstreamTimeout("partner")),
            Ok(r) => r.map_err(|e| upstream(e.to_string()))?,
        };
        match response.status() {
            s if s.is_success() => {
                let detail: PartnerDetail = response.json().await.map_err(|e| upstream(e.to_string()))?;
                Ok(detail.current_plan)
            }
            reqwest::StatusCode::NOT_FOUND => {
                Err(GatewayError::Forbidden(format!("partner {partner_id} does not exist")))
            }
            s => Err(upstream(format!("GET /partners/{partner_id} answered {s}"))),
        }
    }
}
