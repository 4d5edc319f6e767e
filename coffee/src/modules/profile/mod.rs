//! Creator profiles: fetch by id or handle, and search with whitelisted filters. Opening a
//! profile counts towards the partner's usage; FREE plans see premium fields as null.

pub mod api;
pub mod entity;
pub mod service;
