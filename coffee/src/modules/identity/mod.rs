//! Identity, what the gateway falls back to: login (argon2 password check, an HS256 session
//! token, the session stored in Postgres and cached in Redis as `session:{<sid>}`), logout
//! (revoked in Postgres, then a tombstone in Redis, the cached session removed and the logout
//! announced to every gateway) and verify (a token checked against its stored session).
//!
//! Tokens travel in JSON bodies here: coffee's `Authorization` header carries the gateway's
//! downstream identity, not a bearer token (the gateway turns a bearer logout into a body).
//!
//! Layout: [`api`] (handlers), [`service`] (rules), [`repo`] (SQL), [`tokens`] (JWT keys,
//! decoded once), [`revocations`] (the propagator for logouts Redis missed).

pub mod api;
pub mod repo;
pub mod revocations;
pub mod service;
pub mod tokens;
