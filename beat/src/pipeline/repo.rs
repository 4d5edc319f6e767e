//! beat's SQL for creators: the stored profile as the API answers it, and the refresh's upsert
//! of a profile with its posts in one transaction; and for what surrounds a refresh: the
//! request log's batched insert and the sources' limits (`scrape_source`).

use chrono::{DateTime, Utc};
use domain::{Handle, Platform};
use serde::Serialize;
use sqlx::PgPool;

use super::request_log::LogEntry;
use crate::providers::{Post, Profile};

/// A creator as stored, in one shape for both platforms.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct StoredProfile {
    pub id: i64,
    #[sqlx(skip)]
    #[schema(value_type = String, example = "instagram")]
    pub platform: Option<Platform>,
    /// Instagram's numeric id or YouTube's channel id.
    pub external_id: String,
    pub handle: String,
    pub name: String,
    pub bio: String,
    pub followers: i64,
    pub following: Option<i64>,
    pub content_count: i32,
    pub total_views: Option<i64>,
    pub avatar_url: Option<String>,
    pub country: Option<String>,
    pub category: Option<String>,
    pub verified: bool,
    pub engagement_rate: f32,
    pub avg_likes: f64,
    pub avg_comments: f64,
    pub avg_views: f64,
    pub last_scraped_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

const INSTAGRAM: &str = "SELECT id, ig_id AS external_id, handle, full_name AS name, biography AS bio, followers,
    following, posts_count AS content_count, NULL::bigint AS total_views, profile_pic_url AS avatar_url,
    country, category, is_verified AS verified, engagement_rate, avg_likes, avg_comments, avg_reel_views AS avg_views,
    last_scraped_at, updated_at FROM instagram_account";
const YOUTUBE: &str = "SELECT id, channel_id AS external_id, handle, title AS name, description AS bio,
    subscribers AS followers, NULL::bigint AS following, videos_count AS content_count, total_views,
    thumbnail_url AS avatar_url, country, category, false AS verified, engagement_rate, avg_likes, avg_comments, avg_views,
    last_scraped_at, updated_at FROM youtube_account";

fn select(platform: Platform) -> &'static str {
    match platform {
        Platform::Instagram => INSTAGRAM,
        Platform::Youtube => YOUTUBE,
    }
}

pub async fn find_by_handle(pg: &PgPool, handle: &Handle) -> Result<Option<StoredProfile>, sqlx::Error> {
    let sql = format!("{} WHERE lower(handle) = lower($1)", select(handle.platform()));
    let row: Option<StoredProfile> = sqlx::query_as(&sql).bind(handle.as_str()).fetch_optional(pg).await?;
    Ok(row.map(|p| StoredProfile { platform: Some(handle.platform()), ..p }))
}

async fn find_by_id(tx: &mut sqlx::PgConnection, platform: Platform, id: i64) -> Result<StoredProfile, sqlx::Error> {
    let sql = format!("{} WHERE id = $1", select(platform));
    let row: StoredProfile = sqlx::query_as(&sql).bind(id).fetch_one(tx).await?;
    Ok(StoredProfile { platform: Some(platform), ..row })
}

/// Averages over the fetched posts; `None` on a basic refresh (the stored ones stay).
#[derive(Debug, Clone, Copy)]
pub struct PostStats {
    pub avg_likes: f64,
    pub avg_comments: f64,
    pub avg_views: f64,
    /// Percent of followers who like or comment on an average post.
    pub engagement_rate: f32,
}

impl PostStats {
    pub fn of(profile: &Profile, posts: &[Post]) -> Option<Self> {
        if posts.is_empty() {
            return None;
        }
        let n = posts.len() as f64;
        let avg = |f: fn(&Post) -> u64| posts.iter().map(|p| f(p) as f64).sum::<f64>() / n;
        let (avg_likes, avg_comments) = (avg(|p| p.likes), avg(|p| p.comments));
        let viewed: Vec<&Post> = posts.iter().filter(|p| p.views > 0).collect();
        let avg_views = if viewed.is_empty() {
            0.0
        } else {
            viewed.iter().map(|p| p.views as f64).sum::<f64>() / viewed.len() as f64
        };
        let engagement_rate = if profile.followers == 0 {
            0.0
        } else {
            ((avg_likes + avg_comments) / profile.followers as f64 * 100.0) as f32
        };
        Some(Self { avg_likes, avg_comments, avg_views, engagement_rate })
    }
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// What a save stored: the profile row and each post's row id by its platform id.
#[derive(Debug)]
pub struct Saved {
    pub profile: StoredProfile,
    pub post_ids: Vec<(String, i64)>,
}

/// A stored creator is tracked by its handle: when the sources now report another platform id
/// for a handle already stored (the creator re-created the account, or the row came from
/// another source's numbering), the stored row takes the new id, keeping its profile id, its
/// history and the collections that hold it. Without this, the upsert by platform id would
/// collide with the handle's unique index. When the new id is already stored under another
/// handle, nothing is adopted and the upsert renames that row instead.
async fn adopt_handle(tx: &mut sqlx::PgConnection, profile: &Profile) -> Result<(), sqlx::Error> {
    let sql = match profile.platform {
        Platform::Instagram => {
            "UPDATE instagram_account SET ig_id = $1 WHERE lower(handle) = lower($2) AND ig_id <> $1
                 AND NOT EXISTS (SELECT 1 FROM instagram_account WHERE ig_id = $1)"
        }
        Platform::Youtube => {
            "UPDATE youtube_account SET channel_id = $1 WHERE lower(handle) = lower($2) AND channel_id <> $1
                 AND NOT EXISTS (SELECT 1 FROM youtube_account WHERE channel_id = $1)"
        }
    };
    sqlx::query(sql).bind(&profile.external_id).bind(&profile.handle).execute(tx).await?;
    Ok(())
}

/// Upserts the profile (by the platform's id, see [`adopt_handle`]) and its posts in one
/// transaction.
pub async fn save(
    pg: &PgPool,
    profile: &Profile,
    posts: &[Post],
    stats: Option<PostStats>,
) -> Result<Saved, sqlx::Error> {
    let mut tx = pg.begin().await?;
    let content_count = i32::try_from(profile.content_count).unwrap_or(i32::MAX);
    let (er, likes, comments, views) = stats
        .map(|s| (s.engagement_rate, s.avg_likes, s.avg_comments, s.avg_views))
        .map_or((None, None, None, None), |(a, b, c, d)| (Some(a), Some(b), Some(c), Some(d)));
    adopt_handle(&mut tx, profile).await?;
    let id: i64 = match profile.platform {
        Platform::Instagram => {
            sqlx::query_scalar(
                "INSERT INTO instagram_account (ig_id, handle, full_name, biography, followers, following, posts_count,
                     is_verified, is_business, profile_pic_url, engagement_rate, avg_likes, avg_comments, avg_reel_views,
                     last_scraped_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, coalesce($11, 0), coalesce($12, 0), coalesce($13, 0),
                     coalesce($14, 0), now())
                 ON CONFLICT (ig_id) DO UPDATE SET handle = $2, full_name = $3, biography = $4, followers = $5,
                     following = $6, posts_count = $7, is_verified = $8, is_business = $9, profile_pic_url = $10,
                     engagement_rate = coalesce($11, instagram_account.engagement_rate),
                     avg_likes = coalesce($12, instagram_account.avg_likes),
                     avg_comments = coalesce($13, instagram_account.avg_comments),
                     avg_reel_views = coalesce($14, instagram_account.avg_reel_views),
                     last_scraped_at = now()
                 RETURNING id",
            )
            .bind(&profile.external_id)
            .bind(&profile.handle)
            .bind(&profile.name)
            .bind(&profile.bio)
            .bind(int(profile.followers))
            .bind(int(profile.following.unwrap_or(0)))
            .bind(content_count)
            .bind(profile.verified)
            .bind(profile.is_business)
            .bind(&profile.avatar_url)
            .bind(er)
            .bind(likes)
            .bind(comments)
            .bind(views)
            .fetch_one(&mut *tx)
            .await?
        }
        Platform::Youtube => {
            sqlx::query_scalar(
                "INSERT INTO youtube_account (channel_id, handle, title, description, subscribers, total_views,
                     videos_count, thumbnail_url, country, engagement_rate, avg_likes, avg_comments, avg_views,
                     last_scraped_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, coalesce($10, 0), coalesce($11, 0), coalesce($12, 0),
                     coalesce($13, 0), now())
                 ON CONFLICT (channel_id) DO UPDATE SET handle = $2, title = $3, description = $4, subscribers = $5,
                     total_views = $6, videos_count = $7, thumbnail_url = $8,
                     country = coalesce($9, youtube_account.country),
                     engagement_rate = coalesce($10, youtube_account.engagement_rate),
                     avg_likes = coalesce($11, youtube_account.avg_likes),
                     avg_comments = coalesce($12, youtube_account.avg_comments),
                     avg_views = coalesce($13, youtube_account.avg_views),
                     last_scraped_at = now()
                 RETURNING id",
            )
            .bind(&profile.external_id)
            .bind(&profile.handle)
            .bind(&profile.name)
            .bind(&profile.bio)
            .bind(int(profile.followers))
            .bind(int(profile.total_views.unwrap_or(0)))
            .bind(content_count)
            .bind(&profile.avatar_url)
            .bind(&profile.country)
            .bind(er)
            .bind(likes)
            .bind(comments)
            .bind(views)
            .fetch_one(&mut *tx)
            .await?
        }
    };
    let post_ids: Vec<(String, i64)> = if !posts.is_empty() {
        let ids: Vec<&str> = posts.iter().map(|p| p.id.as_str()).collect();
        let at: Vec<DateTime<Utc>> = posts.iter().map(|p| p.published_at).collect();
        let likes: Vec<i64> = posts.iter().map(|p| int(p.likes)).collect();
        let comments: Vec<i64> = posts.iter().map(|p| int(p.comments)).collect();
        let views: Vec<i64> = posts.iter().map(|p| int(p.views)).collect();
        let text: Vec<&str> = posts.iter().map(|p| p.text.as_str()).collect();
        match profile.platform {
            Platform::Instagram => {
                let kinds: Vec<&str> = posts.iter().map(|p| p.kind.as_str()).collect();
                sqlx::query_as(
                    "INSERT INTO instagram_post (shortcode, account_id, post_type, caption, posted_at, likes, comments, views)
                     SELECT s, $1, k, c, a, l, m, v
                     FROM unnest($2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::bigint[], $7::bigint[], $8::bigint[])
                          AS t(s, k, c, a, l, m, v)
                     ON CONFLICT (shortcode) DO UPDATE SET post_type = excluded.post_type, caption = excluded.caption,
                         likes = excluded.likes, comments = excluded.comments, views = excluded.views
                     RETURNING shortcode, id",
                )
                .bind(id)
                .bind(&ids)
                .bind(&kinds)
                .bind(&text)
                .bind(&at)
                .bind(&likes)
                .bind(&comments)
                .bind(&views)
                .fetch_all(&mut *tx)
                .await?
            }
            Platform::Youtube => {
                let durations: Vec<i32> = posts
                    .iter()
                    .map(|p| p.duration_seconds.map_or(0, |d| i32::try_from(d).unwrap_or(i32::MAX)))
                    .collect();
                sqlx::query_as(
                    "INSERT INTO youtube_video (video_id, account_id, title, published_at, duration_seconds, views, likes, comments)
                     SELECT s, $1, c, a, d, v, l, m
                     FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::int[], $6::bigint[], $7::bigint[], $8::bigint[])
                          AS t(s, c, a, d, v, l, m)
                     ON CONFLICT (video_id) DO UPDATE SET title = excluded.title, duration_seconds = excluded.duration_seconds,
                         views = excluded.views, likes = excluded.likes, comments = excluded.comments
                     RETURNING video_id, id",
                )
                .bind(id)
                .bind(&ids)
                .bind(&text)
                .bind(&at)
                .bind(&durations)
                .bind(&views)
                .bind(&likes)
                .bind(&comments)
                .fetch_all(&mut *tx)
                .await?
            }
        }
    } else {
        Vec::new()
    };
    let profile = find_by_id(&mut tx, profile.platform, id).await?;
    tx.commit().await?;
    Ok(Saved { profile, post_ids })
}

/// One statement for a batch of provider calls.
pub(super) async fn insert_request_log(pool: &PgPool, batch: &[LogEntry]) -> Result<(), sqlx::Error> {
    let mut task = Vec::with_capacity(batch.len());
    let mut source = Vec::with_capacity(batch.len());
    let mut credential = Vec::with_capacity(batch.len());
    let mut endpoint = Vec::with_capacity(batch.len());
    let mut status = Vec::with_capacity(batch.len());
    let mut duration = Vec::with_capacity(batch.len());
    let mut error = Vec::with_capacity(batch.len());
    for e in batch {
        task.push(e.task_id);
        source.push(e.source.as_str());
        credential.push(e.credential_id);
        endpoint.push(e.endpoint);
        status.push(e.status.map(|s| s as i16));
        duration.push(i32::try_from(e.duration.as_millis()).unwrap_or(i32::MAX));
        error.push(e.error.as_deref().map(|s| s.chars().take(1000).collect::<String>()));
    }
    sqlx::query(
        "INSERT INTO scrape_request_log (task_id, source, credential_id, endpoint, status_code, duration_ms, error)
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::smallint[], $6::int[], $7::text[])",
    )
    .bind(task)
    .bind(source)
    .bind(credential)
    .bind(endpoint)
    .bind(status)
    .bind(duration)
    .bind(error)
    .execute(pool)
    .await
    .map(drop)
}

/// Creates the `scrape_source` rows missing of these (source, platform, requests, per seconds).
pub(super) async fn add_missing_sources(
    pg: &PgPool,
    names: &[&str],
    platforms: &[&str],
    requests: &[i32],
    periods: &[i32],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO scrape_source (source, platform, requests, per_seconds)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::int[]) ON CONFLICT (source) DO NOTHING",
    )
    .bind(names)
    .bind(platforms)
    .bind(requests)
    .bind(periods)
    .execute(pg)
    .await
    .map(drop)
}

/// Every source's (name, requests, per seconds, enabled).
pub(super) async fn sources(pg: &PgPool) -> Result<Vec<(String, i32, i32, bool)>, sqlx::Error> {
    sqlx::query_as("SELECT source, requests, per_seconds, enabled FROM scrape_source").fetch_all(pg).await
}
