//! Growth analytics over the daily time series: a profile's series at day/week/month
//! granularity, its growth over a range, a compare across profiles, and monthly growth per
//! platform. Served from ClickHouse; [`dao::PgAnalyticsDao`] runs the same queries on the
//! Postgres copy so the benchmark compares the two stores through the same code.

pub mod api;
pub mod dao;
pub mod service;
