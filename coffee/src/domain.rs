//! Small types every module speaks: the platform and a page of results.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    Instagram,
    Youtube,
}

impl Platform {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Instagram => "instagram",
            Self::Youtube => "youtube",
        }
    }
}

impl TryFrom<String> for Platform {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.as_str() {
            "instagram" => Ok(Self::Instagram),
            "youtube" => Ok(Self::Youtube),
            other => Err(format!("unknown platform {other:?}")),
        }
    }
}

/// One page of a list, with the total number of matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub size: u32,
}
