//! Partner-owned collections: of profiles (`/coffee/collections`) and of posts
//! (`/coffee/post-collections`). Both kinds share one implementation, parameterised by
//! [`kind::CollectionKind`]. A partner never sees another partner's collections: they answer
//! 404, exactly like ids that do not exist, so existence does not leak.

pub mod api;
pub mod entity;
pub mod kind;
pub mod repo;
pub mod service;
