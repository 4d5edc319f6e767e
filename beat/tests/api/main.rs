//! beat on the real test stack (Postgres, ClickHouse, Redis) against the provider simulator,
//! served in process. Each test has its own databases, Redis key prefix and simulator.

mod contract;
mod faults;
mod ops;
mod queue;
mod refresh;
mod support;
mod workers;
