//! The stack tool's tests, one binary: the servers it starts are the real ones the other
//! services' tests rely on, and the operators' compose file agrees with the services' configs.

mod compose;
mod lifecycle;
mod redis_cluster;
mod schema;
