//! The storage layer's own error: what the DAOs, the request's sessions and the pools fail
//! with, said in storage terms. The API maps it to a status in one place
//! (`From<StoreError> for ApiError`), so no storage code decides an HTTP answer.

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("postgres: {0}")]
    Postgres(#[from] sqlx::Error),
    #[error("clickhouse: {0}")]
    ClickHouse(#[from] clickhouse::error::Error),
    /// `store` did not serve the call: its breaker is open, its deadline passed, or (ClickHouse)
    /// all its slots stayed busy. `store` names the capability ("the database"). A Postgres
    /// pool that stays exhausted arrives as `Postgres(PoolTimedOut)` (or as the deadline).
    #[error("{store} is unavailable: {reason}")]
    Unavailable { store: &'static str, reason: String },
    /// A search or lookup the DAO cannot run as asked (an unknown field, a mistyped value, a
    /// page out of range): the caller's input.
    #[error("{0}")]
    InvalidQuery(String),
    /// The storage layer used in a way the code must not (a bug), e.g. a session after commit.
    #[error("{0}")]
    Misuse(&'static str),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// The store could not be reached or did not answer in time (as opposed to refusing a
    /// statement): what counts against its breaker.
    pub fn is_outage(&self) -> bool {
        match self {
            Self::Postgres(e) => store::pg::unavailable(e),
            Self::ClickHouse(e) => store::ch::unreachable(e),
            Self::Unavailable { .. } | Self::InvalidQuery(_) | Self::Misuse(_) => false,
        }
    }
}

/// An error a store call can end in, as a guard needs to know it: callers run their own
/// errors (the API's, with its rules) through a store's deadline and breaker as well as the
/// storage layer's.
pub trait StoreFailure: From<StoreError> {
    fn is_outage(&self) -> bool;
}

impl StoreFailure for StoreError {
    fn is_outage(&self) -> bool {
        StoreError::is_outage(self)
    }
}

/// Maps what a guarded call came to ([`breaker::Breaker::call`]) onto the caller's error,
/// naming the store.
pub fn guarded<E: StoreFailure>(store: &'static str, e: breaker::Guarded<E>) -> E {
    match e {
        breaker::Guarded::Open(wait) => E::from(StoreError::Unavailable {
            store,
            reason: format!("it failed repeatedly and is not being asked; retry in {} s", wait.as_secs().max(1)),
        }),
        breaker::Guarded::TimedOut(deadline) => E::from(StoreError::Unavailable {
            store,
            reason: format!("no answer within {} ms; retry shortly", deadline.as_millis()),
        }),
        breaker::Guarded::Failed(e) => e,
    }
}
