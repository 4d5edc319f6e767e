//! A partner's plan (FREE, SAAS, PAID), from its contracts as coffee's `GET /partners/{id}`
//! computes it, cached per partner for `PLAN_CACHE_TTL`.

use std::time::Duration;

use serde::Deserialize;
use tenancy::PlanType;

use crate::error::GatewayError;

#[derive(Deserialize)]
struct PartnerDetail {
    current_plan: String,
}

pub struct PlanResolver {
    cache: moka::future::Cache<i64, PlanType>,
    http: reqwest::Client,
    coffee_url: String,
}

impl PlanResolver {
    pub fn new(http: reqwest::Client, coffee_url: &str, ttl: Duration) -> Self {
        Self {
            cache: moka::future::Cache::builder().max_capacity(100_000).time_to_live(ttl).build(),
            http,
            coffee_url: coffee_url.to_owned(),
        }
    }

    pub async fn plan(&self, partner_id: i64) -> Result<PlanType, GatewayError> {
        self.cache.try_get_with(partner_id, self.fetch(partner_id)).await.map_err(|e| match &*e {
            GatewayError::Forbidden(m) => GatewayError::Forbidden(m.clone()),
            other => GatewayError::Upstream { what: "partner", cause: other.to_string() },
        })
    }

    async fn fetch(&self, partner_id: i64) -> Result<PlanType, GatewayError> {
        let upstream = |cause: String| GatewayError::Upstream { what: "partner", cause };
        let response = self
            .http
            .get(format!("{}/partners/{partner_id}", self.coffee_url))
            .header(tenancy::PARTNER_ID, partner_id.to_string())
            .send()
            .await
            .map_err(|e| upstream(e.to_string()))?;
        match response.status() {
            s if s.is_success() => {
                let detail: PartnerDetail = response.json().await.map_err(|e| upstream(e.to_string()))?;
                detail.current_plan.parse::<PlanType>().map_err(|e| upstream(e.to_string()))
            }
            reqwest::StatusCode::NOT_FOUND => {
                Err(GatewayError::Forbidden(format!("partner {partner_id} does not exist")))
            }
            s => Err(upstream(format!("GET /partners/{partner_id} answered {s}"))),
        }
    }
}
