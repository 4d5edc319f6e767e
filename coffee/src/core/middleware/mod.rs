//! The per-request pipeline in front of every API handler: [`context`] turns the trusted
//! headers into a `RequestContext`, [`session`] commits or rolls back its sessions.

pub mod context;
pub mod session;
