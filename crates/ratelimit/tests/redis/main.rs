//! The limiter on the test stack's real Redis: every behaviour is checked on the single node
//! (beat's `REDIS_URL`) and on the 3-master Redis Cluster (the gateway's), each test with its
//! own key prefix so the suite runs in parallel.

mod boundaries;
mod cluster_routing;
mod exactness;
mod faults;
mod leases;
mod levels;
mod support;
