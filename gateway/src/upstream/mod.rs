//! The calls the gateway makes on its own behalf (not proxied): coffee's `/identity/verify`
//! for sessions no cache knows, and `/partners/{id}` for plans. Each is bounded by
//! `IDENTITY_TIMEOUT_MS` and sits behind its own [`breaker::Breaker`].

pub mod identity;
