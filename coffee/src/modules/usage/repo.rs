//! The usage module's SQL for FREE plans' quota: the month's usage row (locked while a view is
//! decided), whether a profile was already opened this month, and the recording of a view (page
//! track, activity row and counters in one statement). The group-committed log for unlimited
//! plans writes its batches here too ([`write_log_batch`]).

use std::collections::HashSet;

use chrono::NaiveDate;
use sqlx::PgConnection;

use super::log::{month_of, UsageEvent};

use crate::domain::Platform;

/// The partner's usage row of `month`, created if missing, locked (`FOR UPDATE`) until the
/// transaction ends; its count of distinct profiles opened.
pub async fn lock_month(conn: &mut PgConnection, partner_id: i64, month: NaiveDate) -> sqlx::Result<i32> {
    sqlx::query("INSERT INTO partner_usage (partner_id, month) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(partner_id)
        .bind(month)
        .execute(&mut *conn)
        .await?;
    sqlx::query_scalar("SELECT unique_profiles FROM partner_usage WHERE partner_id = $1 AND month = $2 FOR UPDATE")
        .bind(partner_id)
        .bind(month)
        .fetch_one(conn)
        .await
}

/// Whether the partner already opened this profile in `month`.
pub async fn seen(
    conn: &mut PgConnection,
    partner_id: i64,
    platform: Platform,
    profile_id: i64,
    month: NaiveDate,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM partner_profile_page_track \
         WHERE partner_id = $1 AND platform = $2 AND profile_id = $3 AND month = $4)",
    )
    .bind(partner_id)
    .bind(platform.as_str())
    .bind(profile_id)
    .bind(month)
    .fetch_one(conn)
    .await
}

/// Records one view: the page track (first view of the month, or one more), an activity row,
/// and the month's counters.
pub async fn record_view(
    conn: &mut PgConnection,
    partner_id: i64,
    user_id: Option<i64>,
    platform: Platform,
    profile_id: i64,
    month: NaiveDate,
) -> sqlx::Result<()> {
    sqlx::query(
        "WITH tracked AS ( \
             INSERT INTO partner_profile_page_track (partner_id, user_id, platform, profile_id, month) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (partner_id, platform, profile_id, month) \
             DO UPDATE SET view_count = partner_profile_page_track.view_count + 1, last_viewed_at = now() \
             RETURNING (xmax = 0) AS first_view \
         ), activity AS ( \
             INSERT INTO activity_tracker (partner_id, user_id, activity_type, entity_type, entity_id, platform) \
             VALUES ($1, $2, 'PROFILE_VIEW', 'profile', $4, $3) \
         ) \
         UPDATE partner_usage SET profile_views = profile_views + 1, \
             unique_profiles = unique_profiles + (SELECT first_view::int FROM tracked) \
         WHERE partner_id = $1 AND month = $5",
    )
    .bind(partner_id)
    .bind(user_id)
    .bind(platform.as_str())
    .bind(profile_id)
    .bind(month)
    .execute(conn)
    .await?;
    Ok(())
}

/// The partner's counters of `month`: (profile views, distinct profiles, searches), zero when
/// nothing was counted yet.
pub async fn month(conn: &mut PgConnection, partner_id: i64, month: NaiveDate) -> sqlx::Result<(i32, i32, i32)> {
    let row: Option<(i32, i32, i32)> = sqlx::query_as(
        "SELECT profile_views, unique_profiles, searches FROM partner_usage WHERE partner_id = $1 AND month = $2",
    )
    .bind(partner_id)
    .bind(month)
    .fetch_optional(conn)
    .await?;
    Ok(row.unwrap_or_default())
}

/// The usage log's batch: page track, activity rows and monthly counters of many events at
/// once, skipping partners that do not exist.
const WRITE_LOG_BATCH: &str = "\
WITH e AS (
    SELECT e.kind, e.partner_id, u.id AS user_id, e.platform, e.profile_id, e.month, e.at, e.api_client
    FROM unnest($1::text[], $2::int8[], $3::int8[], $4::text[], $5::int8[], $6::date[], $7::timestamptz[], $8::text[])
         AS e (kind, partner_id, user_id, platform, profile_id, month, at, api_client)
    JOIN partner p ON p.id = e.partner_id
    LEFT JOIN users u ON u.id = e.user_id
), tracked AS (
    INSERT INTO partner_profile_page_track AS t
        (partner_id, user_id, platform, profile_id, month, view_count, first_viewed_at, last_viewed_at)
    SELECT partner_id, max(user_id), platform, profile_id, month, count(*), min(at), max(at)
    FROM e WHERE kind = 'view'
    GROUP BY partner_id, platform, profile_id, month
    ON CONFLICT (partner_id, platform, profile_id, month) DO UPDATE
    SET view_count = t.view_count + EXCLUDED.view_count,
        last_viewed_at = greatest(t.last_viewed_at, EXCLUDED.last_viewed_at)
    RETURNING t.partner_id, t.month, (t.xmax = 0) AS first_view
), activity AS (
    INSERT INTO activity_tracker (partner_id, user_id, activity_type, entity_type, entity_id, platform, metadata, created_at)
    SELECT partner_id, user_id, 'PROFILE_VIEW', 'profile', profile_id, platform,
           CASE WHEN api_client IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('api_client_id', api_client) END, at
    FROM e WHERE kind = 'view'
), totals AS (
    SELECT partner_id, month,
           count(*) FILTER (WHERE kind = 'view') AS views,
           count(*) FILTER (WHERE kind = 'search') AS searches
    FROM e GROUP BY partner_id, month
), firsts AS (
    SELECT partner_id, month, count(*) FILTER (WHERE first_view) AS n FROM tracked GROUP BY partner_id, month
)
INSERT INTO partner_usage AS pu (partner_id, month, profile_views, unique_profiles, searches)
SELECT totals.partner_id, totals.month, totals.views, coalesce(firsts.n, 0), totals.searches
FROM totals LEFT JOIN firsts USING (partner_id, month)
ON CONFLICT (partner_id, month) DO UPDATE
SET profile_views = pu.profile_views + EXCLUDED.profile_views,
    unique_profiles = pu.unique_profiles + EXCLUDED.unique_profiles,
    searches = pu.searches + EXCLUDED.searches
RETURNING pu.partner_id";

/// Writes a batch of the usage log in one statement; returns the partners that exist (events
/// of other partners were skipped).
pub(super) async fn write_log_batch(pool: &sqlx::PgPool, events: &[&UsageEvent]) -> sqlx::Result<HashSet<i64>> {
    let n = events.len();
    let mut api_client: Vec<Option<&str>> = Vec::with_capacity(n);
    let (mut kind, mut partner, mut user, mut platform, mut profile, mut month, mut at) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for event in events {
        match **event {
            UsageEvent::ProfileView { partner_id, user_id, api_client: ref client, platform: p, profile_id, at: t } => {
                kind.push("view");
                api_client.push(client.as_deref());
                partner.push(partner_id);
                user.push(user_id);
                platform.push(Some(p.as_str()));
                profile.push(Some(profile_id));
                month.push(month_of(t));
                at.push(t);
            }
            UsageEvent::Search { partner_id, user_id, at: t } => {
                kind.push("search");
                api_client.push(None);
                partner.push(partner_id);
                user.push(user_id);
                platform.push(None);
                profile.push(None);
                month.push(month_of(t));
                at.push(t);
            }
        }
    }
    let known: Vec<i64> = sqlx::query_scalar(WRITE_LOG_BATCH)
        .bind(kind)
        .bind(partner)
        .bind(user)
        .bind(platform)
        .bind(profile)
        .bind(month)
        .bind(at)
        .bind(api_client)
        .fetch_all(pool)
        .await?;
    Ok(known.into_iter().collect())
}
