//! The Postgres pool, sized by `PG_MAX_OPEN_CONN` / `PG_MAX_IDLE_CONN`, the guard requests use
//! it through ([`GuardedPool`]: a deadline and a circuit breaker), and what a Postgres error
//! means for the caller ([`unavailable`], [`refusal`]).

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use breaker::{Breaker, Guarded};

use platform::config::{ExposeSecret, PgConfig};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

/// Connection options without a database-level pool; statements are logged at debug, and at
/// warn when slower than `slow_statement`.
pub fn connect_options(cfg: &PgConfig, slow_statement: Duration) -> PgConnectOptions {
    PgConnectOptions::new()
        .host(&cfg.host)
        .port(cfg.port)
        .username(&cfg.user)
        .password(cfg.password.expose_secret())
        .database(&cfg.database)
        .application_name("bulbul")
        .log_statements(tracing::log::LevelFilter::Debug)
        .log_slow_statements(tracing::log::LevelFilter::Warn, slow_statement)
}

/// A pooled connection idle for longer than this is pinged before it is handed out.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(30);

/// After a connection was found lost, every connection is pinged before it is handed out for
/// this long: when one connection died with its server (a restart, a failover), the others
/// the pool holds died too, and each would otherwise cost a request of its own to find out.
const PING_ALL_AFTER_A_LOSS_FOR: Duration = Duration::from_secs(10);

/// When the last lost connection was seen, in milliseconds since [`clock_start`] (0: never).
static LAST_LOSS_MS: AtomicU64 = AtomicU64::new(0);

fn clock_start() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    // never 0, which means "never"
    u64::try_from(clock_start().elapsed().as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Whether `err` means the connection it ran on is gone (as opposed to a busy pool or a
/// refused statement); if so, every pool in this process pings its connections before handing
/// them out for [`PING_ALL_AFTER_A_LOSS_FOR`], so the other dead ones are replaced unseen.
/// Services call it where they answer a Postgres error.
pub fn note_lost_connection(err: &sqlx::Error) -> bool {
    let lost = match err {
        sqlx::Error::Io(_) => true,
        sqlx::Error::Database(db) => {
            db.code().is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02"))
        }
        _ => false,
    };
    if lost {
        LAST_LOSS_MS.store(now_ms(), Ordering::Relaxed);
    }
    lost
}

fn recently_lost_a_connection() -> bool {
    let last = LAST_LOSS_MS.load(Ordering::Relaxed);
    last != 0 && now_ms().saturating_sub(last) < PING_ALL_AFTER_A_LOSS_FOR.as_millis() as u64
}

/// A lazily connecting pool: the first query opens the first connection, so a service can
/// start (and report not-ready) while the database is still coming up.
///
/// sqlx pings every connection before handing it out by default, one extra round trip per
/// checkout (per request, for a service that reads through the pool). Connections that were in
/// use a moment ago are healthy with overwhelming likelihood, and a dead one fails its first
/// query anyway, so only connections idle for [`PING_IF_IDLE_FOR`] are tested, and every one for
/// a while after a connection was lost ([`note_lost_connection`]).
pub fn pool(cfg: &PgConfig, slow_statement: Duration) -> PgPool {
    named_pool(cfg, slow_statement, "bulbul")
}

/// [`pool`], its connections named `application_name` in `pg_stat_activity` (a pool with a
/// job of its own, such as coffee's usage log, `bulbul-usage-log`).
pub fn named_pool(cfg: &PgConfig, slow_statement: Duration, application_name: &str) -> PgPool {
    pool_options(cfg).connect_lazy_with(connect_options(cfg, slow_statement).application_name(application_name))
}

/// The pool's sizing and checkout rules (see [`pool`]).
fn pool_options(cfg: &PgConfig) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(cfg.max_open_conns)
        .min_connections(cfg.max_idle_conns.min(cfg.max_open_conns))
        .acquire_timeout(Duration::from_secs(10))
        .idle_timeout(Some(Duration::from_secs(300)))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_IF_IDLE_FOR || recently_lost_a_connection() {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// Why Postgres work a request asked for did not happen, or the error Postgres gave.
#[derive(Debug, thiserror::Error)]
pub enum PgError {
    /// The database failed repeatedly, so it was not asked; the value is how long until the
    /// breaker lets a trial through.
    #[error("the database failed repeatedly and is not asked for {} ms", .0.as_millis())]
    CircuitOpen(Duration),
    /// No connection, or no answer, within the deadline.
    #[error("the database did not answer within {} ms", .0.as_millis())]
    TimedOut(Duration),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

impl PgError {
    /// Whether the database is unavailable (the request is not at fault; retry later), and for
    /// how long the caller should wait, if known.
    pub fn unavailable(&self) -> Option<Option<Duration>> {
        match self {
            Self::CircuitOpen(wait) => Some(Some(*wait)),
            Self::TimedOut(_) => Some(None),
            Self::Sql(e) if unavailable(e) => Some(None),
            Self::Sql(_) => None,
        }
    }
}

impl From<Guarded<sqlx::Error>> for PgError {
    fn from(e: Guarded<sqlx::Error>) -> Self {
        match e {
            Guarded::Open(wait) => Self::CircuitOpen(wait),
            Guarded::TimedOut(deadline) => Self::TimedOut(deadline),
            Guarded::Failed(e) => Self::Sql(e),
        }
    }
}

/// The pool as requests use it: each piece of work (taking a connection, a statement, a short
/// transaction) runs under a deadline, `PG_QUERY_TIMEOUT_MS`, because a frozen server never
/// answers and nothing else would end the wait before the request's own timeout; and behind a
/// circuit breaker (`PG_BREAKER_*`), so once Postgres has been unreachable or silent several
/// times in a row, requests are told at once instead of each waiting out the deadline. Only an
/// unavailable database counts against the breaker ([`unavailable`]), never a refused
/// statement; a pool that stays exhausted for the whole deadline counts too (shedding load
/// for the cooldown beats queueing more requests behind it).
///
/// Work cut at its deadline has an unknown outcome if it had sent its last statement (an
/// autocommitted statement, or the COMMIT of a transaction run inside `run`): Postgres runs what
/// it received once it answers again. Callers put only idempotent work in one `run` (upserts,
/// deduplicated enqueues, lease-fenced outcomes), or keep the commit outside it. Derefs to the
/// pool, for work that must not be cut short.
#[derive(Clone)]
pub struct GuardedPool {
    pool: PgPool,
    guard: Arc<(Breaker, Duration)>,
}

impl GuardedPool {
    pub fn new(pool: PgPool, deadline: Duration, breaker: Breaker) -> Self {
        Self { pool, guard: Arc::new((breaker, deadline)) }
    }

    /// A service's pool ([`named_pool`]) under `deadline` and `breaker`, whose sessions give up
    /// waiting for a row lock at three quarters of the deadline (`lock_timeout`). A request
    /// queued behind another's lock for that long is then told so ([`contention`]: 503, repeat
    /// it) instead of running into the deadline, which would count a busy row against the
    /// database's breaker as if the server had stopped answering.
    pub fn connect(
        cfg: &PgConfig,
        slow_statement: Duration,
        application_name: &str,
        deadline: Duration,
        breaker: Breaker,
    ) -> Self {
        let lock_timeout = format!("{}ms", (deadline.as_millis() * 3 / 4).max(1));
        let options = connect_options(cfg, slow_statement)
            .application_name(application_name)
            .options([("lock_timeout", lock_timeout.as_str())]);
        Self::new(pool_options(cfg).connect_lazy_with(options), deadline, breaker)
    }

    /// Runs `work` (which uses this pool or a connection from it) under the deadline and the
    /// breaker.
    pub async fn run<T>(&self, work: impl Future<Output = Result<T, sqlx::Error>>) -> Result<T, PgError> {
        let (breaker, deadline) = &*self.guard;
        Ok(breaker.call(*deadline, work, unavailable).await?)
    }

    /// Starts probing this pool's database (`cfg`'s) in the background ([`breaker::watch`]): a
    /// silent or unreachable server opens the breaker within `settings.every + settings.deadline`
    /// rather than after `failures` requests have each waited out the deadline. Ends when the
    /// pool is closed.
    pub fn watch(&self, cfg: &PgConfig, settings: breaker::ProbeSettings) {
        let options = connect_options(cfg, Duration::from_secs(1)).application_name("bulbul-probe");
        breaker::watch(self.breaker(), settings, PgProbe { options, conn: None, pool: self.pool.clone() });
    }

    /// The deadline of one piece of work.
    pub fn deadline(&self) -> Duration {
        self.guard.1
    }

    pub fn breaker(&self) -> &Breaker {
        &self.guard.0
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes the pool at shutdown, so its connections go back to the server now rather than
    /// when the process exits; a silent server gets no longer than one piece of work would.
    pub async fn close(&self) {
        if tokio::time::timeout(self.deadline(), self.pool.close()).await.is_err() {
            tracing::warn!("postgres connections not closed within the deadline");
        }
    }
}

impl std::ops::Deref for GuardedPool {
    type Target = PgPool;
    fn deref(&self) -> &PgPool {
        &self.pool
    }
}

/// The probe that watches a service's Postgres breaker ([`breaker::watch`]): `SELECT 1` on a
/// connection of its own (`application_name` `bulbul-probe`), never one of the pool's, so a pool
/// kept busy by a burst of slow requests is not taken for a silent server. A check that fails
/// drops the connection and the next one connects again; a check cut at its deadline keeps it
/// (sqlx reads the late answer before the next statement), so while the server stays silent
/// every check waits on it, and the first answer after it resumes releases the breaker. It
/// ends when the pool it watches is closed.
struct PgProbe {
    options: PgConnectOptions,
    conn: Option<sqlx::PgConnection>,
    pool: PgPool,
}

impl breaker::Probe for PgProbe {
    async fn check(&mut self) -> Result<(), String> {
        if self.conn.is_none() {
            self.conn = Some(self.options.connect().await.map_err(|e| e.to_string())?);
        }
        let conn = self.conn.as_mut().expect("connected above");
        if let Err(e) = sqlx::query("SELECT 1").execute(&mut *conn).await {
            self.conn = None;
            return Err(e.to_string());
        }
        Ok(())
    }

    fn retired(&self) -> bool {
        self.pool.is_closed()
    }
}

/// `SELECT 1`, for readiness checks.
pub async fn ping(pool: &PgPool) -> Result<(), String> {
    sqlx::query("SELECT 1").execute(pool).await.map(drop).map_err(|e| e.to_string())
}

/// A `/ready` check for this pool.
pub fn ready_check(pool: &PgPool) -> platform::http::Check {
    let pool = pool.clone();
    platform::http::check(move || {
        let pool = pool.clone();
        async move { ping(&pool).await }
    })
}

/// A statement Postgres refused because of the data it was given, not because anything is
/// wrong with the database: the caller's input, answered as a client error by every service.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("already exists (violates {0})")]
    Duplicate(String),
    #[error("refers to something that does not exist (violates {0})")]
    MissingReference(String),
    #[error("a value is out of range (violates {0})")]
    Check(String),
    #[error("a required value is missing")]
    Missing,
    #[error("a value is too long")]
    TooLong,
    #[error("a number is out of range")]
    NumberOutOfRange,
    /// Text Postgres cannot store or compare, such as a NUL character.
    #[error("a text value contains a character that cannot be stored")]
    UnstorableText,
}

impl Refusal {
    /// The answer a refused write gets: 409 when what was written already exists, else 422 (the
    /// request's data is at fault, never the server).
    pub fn status(&self) -> http::StatusCode {
        match self {
            Self::Duplicate(_) => http::StatusCode::CONFLICT,
            _ => http::StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
}

/// Postgres could not be used, as opposed to refusing a statement: the connection was lost or
/// never made (a restart, a failover, a network fault), the pool had none to give in time, or
/// the server is shutting down, starting up or out of connections. Services answer these 503
/// with `Retry-After`: the database is unavailable, not the request wrong. A lost connection is
/// also noted ([`note_lost_connection`]).
pub fn unavailable(err: &sqlx::Error) -> bool {
    note_lost_connection(err);
    match err {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // class 08: connection exception; 57P01-03: admin or crash shutdown, cannot connect
            // now; 53300: too many connections
            code.starts_with("08") || matches!(code.as_ref(), "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

/// Postgres rolled the statement's transaction back because it met a concurrent one, not
/// because of its data or of the database's health: a deadlock (40P01), a serialization failure
/// (40001) or a lock it could not take in time (55P03). Nothing of the transaction was kept, so
/// repeating the request is safe, and it will most likely succeed: services answer 503 with a
/// short `Retry-After` ([`CONTENTION_RETRY_AFTER`]), and do not count it against the database's
/// breaker.
pub fn contention(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().is_some_and(|c| matches!(c.as_ref(), "40P01" | "40001" | "55P03")))
}

/// How long a client waits before repeating a request that met a concurrent one
/// ([`contention`]): the other transaction is over by then.
pub const CONTENTION_RETRY_AFTER: Duration = Duration::from_secs(1);

/// What a client reads of a [`contention`] rollback.
pub const CONTENTION_DETAIL: &str =
    "the request met a concurrent change to the same data and was rolled back without effect; repeat it";

/// What the data in a refused statement did wrong, when that is why `err` happened.
pub fn refusal(err: &sqlx::Error) -> Option<Refusal> {
    let sqlx::Error::Database(db) = err else { return None };
    let constraint = || db.constraint().unwrap_or("a constraint").to_owned();
    Some(match db.code()?.as_ref() {
        "23505" => Refusal::Duplicate(constraint()),
        "23503" => Refusal::MissingReference(constraint()),
        "23514" => Refusal::Check(constraint()),
        "23502" => Refusal::Missing,
        "22001" => Refusal::TooLong,
        "22003" => Refusal::NumberOutOfRange,
        "22021" | "22P05" => Refusal::UnstorableText,
        _ => return None,
    })
}
