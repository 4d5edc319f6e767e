//! One folder per module: `api` (routes, DTOs), `service` (business rules, plan gating,
//! tenancy), `entity` (rows the generic DAO reads and writes), and `repo` where a module needs
//! SQL the DAO does not express.

pub mod analytics;
pub mod api_key;
pub mod collection;
pub mod identity;
pub mod leaderboard;
pub mod partner;
pub mod profile;
pub mod usage;
