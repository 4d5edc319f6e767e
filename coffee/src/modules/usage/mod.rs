//! What a partner used this month: profile views (each recorded in
//! `partner_profile_page_track` and `activity_tracker`, counted in `partner_usage`) and
//! searches. FREE plans may open a configurable number of distinct profiles per month.

pub mod api;
pub mod log;
pub mod repo;
pub mod service;
