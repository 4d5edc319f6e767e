//! A partner with its contracts and the plan they give today: the plan of a SAAS contract valid
//! now, else FREE (a partner without a live paid contract gets the free plan's limits).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use tenancy::PlanType;
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
    #[sqlx(try_from = "String")]
    pub status: PartnerStatus,
    pub created_at: DateTime<Utc>,
}

/// Where a partner's account stands (the `partner.status` column's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum PartnerStatus {
    Active,
    Suspended,
    Closed,
}

/// What a contract sells (the `partner_contract.contract_type` column's values); only a SAAS
/// contract gives a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum ContractType {
    Saas,
    Api,
    Campaign,
}

/// A value the database holds that this code does not know (its CHECK constraint and these
/// types disagree).
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct UnknownValue {
    what: &'static str,
    value: String,
}

impl TryFrom<String> for PartnerStatus {
    type Error = UnknownValue;
    fn try_from(value: String) -> Result<Self, UnknownValue> {
        match value.as_str() {
            "ACTIVE" => Ok(Self::Active),
            "SUSPENDED" => Ok(Self::Suspended),
            "CLOSED" => Ok(Self::Closed),
            _ => Err(UnknownValue { what: "partner status", value }),
        }
    }
}

impl TryFrom<String> for ContractType {
    type Error = UnknownValue;
    fn try_from(value: String) -> Result<Self, UnknownValue> {
        match value.as_str() {
            "SAAS" => Ok(Self::Saas),
            "API" => Ok(Self::Api),
            "CAMPAIGN" => Ok(Self::Campaign),
            _ => Err(UnknownValue { what: "contract type", value }),
        }
    }
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
    #[sqlx(try_from = "String")]
    pub contract_type: ContractType,
    #[sqlx(try_from = "String")]
    pub plan: PlanType,
    pub start_date: DateTime<Utc>,
    pub end_date: DateTime<Utc>,
    pub monthly_profile_view_quota: Option<i32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PartnerDetail {
    #[serde(flatten)]
    pub partner: Partner,
    pub contracts: Vec<Contract>,
    /// as of now
    pub current_plan: PlanType,
}

pub fn current_plan(contracts: &[Contract], now: DateTime<Utc>) -> PlanType {
    contracts
        .iter()
        .filter(|c| c.contract_type == ContractType::Saas && c.start_date <= now && now < c.end_date)
        .max_by_key(|c| c.end_date)
        .map_or(PlanType::Free, |c| c.plan)
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
    let contracts = ctx
        .postgres("partner_contracts", async { Ok(super::repo::contracts(&mut *ctx.pg.read().await?, id).await?) })
        .await?;
    let current_plan = current_plan(&contracts, Utc::now());
    Ok(PartnerDetail { partner, contracts, current_plan })
}
