//! A partner with its contracts and the plan they give today: the plan of a SAAS contract valid
//! now, else FREE (a partner without a live paid contract gets the free plan's limits).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use utoipa::ToSchema;

use crate::core::context::RequestContext;
use crate::core::dao::{Dao, Direction, Entity};
use crate::core::postgres::PgDao;
use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Partner {
    pub id: i64,
    pub name: String,
    pub slug: String,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

impl Entity for Partner {
    type Id = i64;
    const TABLE: &'static str = "partner";
    const ID: &'static str = "id";
    const COLUMNS: &'static str = "id, name, slug, status, created_at";
    const DEFAULT_SORT: &'static [(&'static str, Direction)] = &[("id", Direction::Asc)];
}

#[derive(Debug, Clone, Serialize, FromRow, ToSchema)]
pub struct Contract {
    pub id: i64,
    pub contract_type: String,
    pub plan: String,
    pub start_date: DateTime<Utc>,
    pub end_date: DateTime<Utc>,
    pub monthly_profile_view_quota: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerDetail {
    #[serde(flatten)]
    pub partner: Partner,
    pub contracts: Vec<Contract>,
    /// FREE, SAAS or PAID, as of now
    pub current_plan: String,
}

pub fn current_plan(contracts: &[Contract], now: DateTime<Utc>) -> String {
    contracts
        .iter()
        .filter(|c| c.contract_type == "SAAS" && c.start_date <= now && now < c.end_date)
        .max_by_key(|c| c.end_date)
        .map_or_else(|| "FREE".to_owned(), |c| c.plan.clone())
}

pub async fn get(ctx: &RequestContext, id: i64) -> ApiResult<PartnerDetail> {
    // a partner reads only itself; internal calls (no partner header) read any
    if ctx.partner_id().is_some_and(|own| own != id) {
        return Err(ApiError::not_found(format!("partner {id}")));
    }
    let partner = PgDao::<Partner>::default()
        .find_by_id(ctx, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("partner {id}")))?;
    let contracts = super::repo::contracts(&mut *ctx.pg.read().await?, id).await?;
    let current_plan = current_plan(&contracts, Utc::now());
    Ok(PartnerDetail { partner, contracts, current_plan })
}
