//! Partners and their contracts; the gateway resolves a partner's plan from them.

pub mod api;
pub mod repo;
pub mod service;
