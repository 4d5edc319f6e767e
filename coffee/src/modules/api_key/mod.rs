//! Partner API keys: how machine clients authenticate without a person's password. A partner's
//! users create keys (name, scope, optional expiry), list, rotate and revoke them with their
//! session; the gateway checks a key on every request through its tiers (memory, Redis, then
//! [`service::verify`] here), exactly as it checks sessions.
//!
//! Layout: [`api`] (handlers), [`service`] (rules: who may manage keys, which plans may hold
//! them, revocation that reaches every gateway), [`repo`] (SQL), [`revocations`] (the
//! propagator for revocations Redis missed). The key format and hash are shared with the
//! gateway in `tenancy::ApiKey`.

pub mod api;
pub mod repo;
pub mod revocations;
pub mod service;
