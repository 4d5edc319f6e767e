//! Small types every module speaks: the platform and a page of results.

use serde::Serialize;
use utoipa::ToSchema;

/// The workspace's one platform type (the `domain` crate), with its OpenAPI schema.
pub use domain::Platform;

/// One page of a list, with the total number of matches.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub size: u32,
}
