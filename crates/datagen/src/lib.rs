//! Generates a deterministic (seeded) and realistic data set: N profiles per platform with D
//! days of history each (log-normal audience sizes, growth with noise and occasional viral
//! jumps, engagement that falls with audience size), their posts, partners with contracts and
//! users, and collections. Postgres gets it through COPY, ClickHouse through batched RowBinary
//! inserts. The same seed and sizes always give the same rows.

pub mod model;
pub mod sink;

pub use model::{GenConfig, Platform};
pub use sink::{load, LoadReport, Targets};

/// The demo partners' logins, documented in the README.
pub const DEMO_PASSWORD: &str = "demo-password";
pub const DEMO_SAAS_EMAIL: &str = "demo@bulbul.dev";
pub const DEMO_FREE_EMAIL: &str = "free@bulbul.dev";
