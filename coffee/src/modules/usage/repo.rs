//! The usage module's SQL for FREE plans' quota: the month's usage row (locked while a view is
//! decided), whether a profile was already opened this month, and the recording of a view (page
//! track, activity row and counters in one statement). The group-committed log for unlimited
//! plans has its own writes ([`super::log`]).

use chrono::NaiveDate;
use sqlx::PgConnection;

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
