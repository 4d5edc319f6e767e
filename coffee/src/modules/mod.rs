//! One folder per module: `api` (routes, DTOs), `service` (business rules, plan gating,
//! tenancy), `manager` where a module orchestrates several entities, `entity` (rows).

pub mod analytics;
pub mod collection;
pub mod identity;
pub mod leaderboard;
pub mod partner;
pub mod profile;
pub mod usage;
