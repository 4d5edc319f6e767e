//! The collection module's hand-written SQL, for what the generic DAO does not express: whether
//! an item's target exists (its table depends on the collection kind and platform), the bump of
//! a collection's `updated_at`, and a post collection's metrics summary (an aggregate over its
//! items' posts and their authors), computed on read or computed and stored.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection};
use utoipa::ToSchema;

#[derive(Debug, Serialize, FromRow, ToSchema)]
pub struct PostMetricsSummary {
    pub post_collection_id: i64,
    pub total_posts: i32,
    pub total_likes: i64,
    pub total_comments: i64,
    pub total_views: i64,
    /// mean of (likes + comments) / author's audience, in percent
    pub avg_engagement_rate: f32,
    pub computed_at: DateTime<Utc>,
}

/// The summary's aggregate over collection `$1`'s posts, one row.
const SUMMARY: &str = "WITH items AS (SELECT instagram_post_id, youtube_video_id FROM post_collection_item WHERE collection_id = $1),
      posts AS (
        SELECT p.likes, p.comments, p.views, a.followers AS audience
          FROM items i JOIN instagram_post p ON p.id = i.instagram_post_id JOIN instagram_account a ON a.id = p.account_id
        UNION ALL
        SELECT v.likes, v.comments, v.views, y.subscribers
          FROM items i JOIN youtube_video v ON v.id = i.youtube_video_id JOIN youtube_account y ON y.id = v.account_id)
 SELECT $1::int8 AS post_collection_id, count(*)::int4 AS total_posts, COALESCE(sum(likes), 0)::int8 AS total_likes,
        COALESCE(sum(comments), 0)::int8 AS total_comments, COALESCE(sum(views), 0)::int8 AS total_views,
        COALESCE(avg((likes + comments)::float8 / NULLIF(audience, 0) * 100), 0)::float4 AS avg_engagement_rate,
        now() AS computed_at
   FROM posts";

/// The summary of post collection `id` as its items are now (reads only).
pub async fn post_metrics_summary(conn: &mut PgConnection, id: i64) -> sqlx::Result<PostMetricsSummary> {
    sqlx::query_as(SUMMARY).bind(id).fetch_one(conn).await
}

/// The summary of post collection `id`, computed and stored in `collection_post_metrics_summary`
/// (replacing the one stored before).
pub async fn store_post_metrics_summary(conn: &mut PgConnection, id: i64) -> sqlx::Result<PostMetricsSummary> {
    let sql = format!(
        "WITH summary AS ({SUMMARY})
         INSERT INTO collection_post_metrics_summary
                (post_collection_id, total_posts, total_likes, total_comments, total_views, avg_engagement_rate, computed_at)
         SELECT * FROM summary
         ON CONFLICT (post_collection_id) DO UPDATE SET
                total_posts = EXCLUDED.total_posts, total_likes = EXCLUDED.total_likes, total_comments = EXCLUDED.total_comments,
                total_views = EXCLUDED.total_views, avg_engagement_rate = EXCLUDED.avg_engagement_rate, computed_at = EXCLUDED.computed_at
         RETURNING post_collection_id, total_posts, total_likes, total_comments, total_views, avg_engagement_rate, computed_at"
    );
    sqlx::query_as(&sql).bind(id).fetch_one(conn).await
}

/// Whether row `id` exists in `table` (a table name from the collection kind, never input).
pub async fn exists(conn: &mut PgConnection, table: &str, id: i64) -> sqlx::Result<bool> {
    sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = $1)")).bind(id).fetch_one(conn).await
}

/// Sets the `updated_at` of row `id` of `table` (a collection table) to now.
pub async fn touch(conn: &mut PgConnection, table: &str, id: i64) -> sqlx::Result<()> {
    sqlx::query(&format!("UPDATE {table} SET updated_at = now() WHERE id = $1")).bind(id).execute(conn).await?;
    Ok(())
}
