//! Monthly leaderboards per platform, ranked by followers, engagement rate, views or follower
//! growth, optionally within a category, read from ClickHouse's monthly aggregates.

pub mod api;
pub mod service;
