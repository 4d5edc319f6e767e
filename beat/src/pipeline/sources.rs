//! Each source's own rate limit and on/off switch, from the `scrape_source` table, so an
//! operator can change them without a deploy. Rows missing at start-up are created with the
//! defaults below (each provider's contracted rate); the table is read again every
//! [`SYNC_EVERY`]. The first read happens before beat serves; until one succeeds (Postgres down
//! at start-up), the defaults hold.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use domain::Platform;
use ratelimit::{Limit, StackPolicy};
use sqlx::PgPool;

pub const SYNC_EVERY: Duration = Duration::from_secs(30);

/// (source, platform, requests, per seconds)
pub const DEFAULT_LIMITS: [(&str, Platform, i32, i32); 7] = [
    ("insta-best-performance", Platform::Instagram, 2, 1),
    ("arraybobo", Platform::Instagram, 100, 30),
    ("rocketapi", Platform::Instagram, 100, 30),
    ("graphapi", Platform::Instagram, 200, 3600),
    ("youtube138", Platform::Youtube, 850, 60),
    ("youtubev31", Platform::Youtube, 500, 60),
    ("youtube-data-api", Platform::Youtube, 10_000, 86_400),
];

/// A source's limit; `None` when the source is switched off.
type Entry = Option<Arc<StackPolicy>>;

#[derive(Clone, Default)]
pub struct SourceLimits {
    current: Arc<RwLock<HashMap<String, Entry>>>,
}

fn policy(source: &str, requests: i32, per_seconds: i32) -> Option<Arc<StackPolicy>> {
    let limit =
        Limit::gcra("rate", u64::try_from(requests).ok()?, Duration::from_secs(u64::try_from(per_seconds).ok()?));
    match limit.and_then(|l| StackPolicy::new(source, vec![l])) {
        Ok(p) => Some(Arc::new(p)),
        Err(e) => {
            tracing::error!(source, error = %e, "unusable source limit; the source is skipped");
            None
        }
    }
}

impl SourceLimits {
    pub fn defaults() -> Self {
        let map = DEFAULT_LIMITS.iter().map(|(s, _, r, p)| ((*s).to_owned(), policy(s, *r, *p))).collect();
        Self { current: Arc::new(RwLock::new(map)) }
    }

    /// The source's limit, or `None` when it is switched off (or unknown).
    pub fn get(&self, source: &str) -> Entry {
        self.current.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(source).cloned().flatten()
    }

    /// Creates missing rows with the defaults, then reads every row.
    pub async fn sync(&self, pg: &PgPool) -> Result<(), sqlx::Error> {
        let (names, platforms, requests, periods): (Vec<&str>, Vec<&str>, Vec<i32>, Vec<i32>) =
            DEFAULT_LIMITS.iter().fold(Default::default(), |(mut n, mut pl, mut r, mut pe), (s, p, req, per)| {
                n.push(*s);
                pl.push(p.as_str());
                r.push(*req);
                pe.push(*per);
                (n, pl, r, pe)
            });
        super::repo::add_missing_sources(pg, &names, &platforms, &requests, &periods).await?;
        let rows = super::repo::sources(pg).await?;
        let mut current = self.current.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (source, requests, per_seconds, enabled) in rows {
            let unchanged = current.get(&source).and_then(Option::as_ref).is_some_and(|p| {
                enabled
                    && p.limits()[0].requests() == requests as u64
                    && p.limits()[0].period() == Duration::from_secs(per_seconds as u64)
            });
            if !unchanged {
                let entry = if enabled { policy(&source, requests, per_seconds) } else { None };
                current.insert(source, entry);
            }
        }
        Ok(())
    }

    /// Reads the table once, then keeps the limits in step with it until `stop`. The first read
    /// is awaited (under the pool's deadline, so start-up waits at most `PG_QUERY_TIMEOUT_MS`)
    /// before this returns: a beat that starts with Postgres up serves its first request with
    /// the configured limits, and the start-up read never runs alongside the first requests.
    pub async fn keep_in_sync(
        self,
        pg: store::pg::GuardedPool,
        stop: tokio_util::sync::CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        self.sync_now(&pg).await;
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(SYNC_EVERY) => {}
                }
                self.sync_now(&pg).await;
            }
        })
    }

    /// One read of the table under the pool's deadline: a silent database cannot hold the loop
    /// (or start-up, or shutdown); a failed read keeps the last limits.
    async fn sync_now(&self, pg: &store::pg::GuardedPool) {
        if let Err(e) = pg.run(self.sync(pg.pool())).await {
            tracing::warn!(error = %e, "source limits not read; keeping the last ones");
        }
    }
}
