//! Identity, what the gateway falls back to: login (argon2 password check, an HS256 session
//! token, the session stored in Postgres and cached in Redis as `session:{sid}`), logout
//! (session revoked in Postgres, removed from Redis, invalidation published to gateway caches)
//! and verify (a token checked against its stored session).
//!
//! Tokens travel in JSON bodies here: coffee's `Authorization` header carries the gateway's
//! downstream identity, not a bearer token.

pub mod api;
pub mod service;
