//! The partner's plan, which gates premium fields and quotas.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum PlanType {
    Free,
    Saas,
    Paid,
}

impl PlanType {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Free => "FREE",
            Self::Saas => "SAAS",
            Self::Paid => "PAID",
        }
    }

    /// Whether premium fields (contact details, audience demographics) are visible.
    pub const fn sees_premium_fields(self) -> bool {
        matches!(self, Self::Saas | Self::Paid)
    }
}

impl fmt::Display for PlanType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown plan type {0:?}: expected FREE, SAAS or PAID")]
pub struct UnknownPlan(pub String);

impl FromStr for PlanType {
    type Err = UnknownPlan;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "FREE" => Ok(Self::Free),
            "SAAS" => Ok(Self::Saas),
            "PAID" => Ok(Self::Paid),
            _ => Err(UnknownPlan(s.to_owned())),
        }
    }
}

/// For stores that hold the plan as text (`#[sqlx(try_from = "String")]`).
impl TryFrom<String> for PlanType {
    type Error = UnknownPlan;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_and_round_trips() {
        for p in [PlanType::Free, PlanType::Saas, PlanType::Paid] {
            assert_eq!(p.as_str().parse::<PlanType>(), Ok(p));
            assert_eq!(p.as_str().to_lowercase().parse::<PlanType>(), Ok(p));
            assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{p}\""));
        }
        assert!("GOLD".parse::<PlanType>().is_err());
        assert!(!PlanType::Free.sees_premium_fields());
        assert!(PlanType::Paid.sees_premium_fields());
    }
}
