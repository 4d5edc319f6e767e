//! A creator by handle: the stored one while it is fresh (younger than `REFRESH_MAX_AGE`) and
//! no refresh is forced; else refreshed from the sources. A full refresh (profile and posts)
//! passes the stacked refresh limit (daily, per minute, per handle); a basic one is bounded by
//! the sources' own limits.

use domain::Handle;
use ratelimit::{Decision, RateLimitHeaders};

use crate::error::{ApiError, ApiResult};
use crate::pipeline::repo::{self, StoredProfile};
use crate::pipeline::Depth;
use crate::AppState;

/// What a caller asked of the lookup.
#[derive(Debug, Clone, Copy, Default)]
pub struct Refresh {
    /// Fetch posts too (under the stacked refresh limit).
    pub full: bool,
    /// Refresh even when the stored creator is fresh.
    pub force: bool,
}

/// The creator, and the refresh limit's headers when it was decided.
pub async fn by_handle(
    state: &AppState,
    handle: &Handle,
    refresh: Refresh,
) -> ApiResult<(StoredProfile, Option<RateLimitHeaders>)> {
    let stored = state.pg.run(repo::find_by_handle(&state.pg, handle)).await?;
    let fresh = stored.as_ref().and_then(|p| p.last_scraped_at).is_some_and(|at| {
        chrono::Utc::now().signed_duration_since(at).to_std().is_ok_and(|age| age < state.refresh_max_age)
    });
    if let Some(profile) = stored.filter(|_| fresh && !refresh.force) {
        return Ok((profile, None));
    }
    if !refresh.full {
        return Ok((state.refresher.refresh(handle, Depth::Basic).await?, None));
    }
    let key = handle.as_str().to_ascii_lowercase();
    let decision = state
        .limiter
        .stack(&state.refresh_limits)
        .shard(handle.platform().as_str())
        .key("handle", &key)
        .check(1)
        .await?;
    match decision {
        Decision::Rejected(_) => Err(ApiError::ConcurrencyLimit(decision.headers())),
        Decision::Admitted(_) => {
            let profile = state.refresher.refresh(handle, Depth::Full).await?;
            Ok((profile, Some(decision.headers())))
        }
    }
}
