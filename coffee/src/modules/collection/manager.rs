//! Orchestration across entities: a post collection's metrics summary reads its items, their
//! posts and the posts' authors, and stores the result in `collection_post_metrics_summary`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use utoipa::ToSchema;

use super::kind::Posts;
use super::service::owned;
use crate::core::context::RequestContext;
use crate::error::ApiResult;

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

/// Recomputes and stores the summary of one of the caller's post collections.
pub async fn post_collection_summary(ctx: &RequestContext, collection_id: i64) -> ApiResult<PostMetricsSummary> {
    owned::<Posts>(ctx, collection_id).await?;
    let mut tx = ctx.pg.tx().await?;
    let summary = sqlx::query_as::<_, PostMetricsSummary>(
        "WITH items AS (SELECT instagram_post_id, youtube_video_id FROM post_collection_item WHERE collection_id = $1),
              posts AS (
                SELECT p.likes, p.comments, p.views, a.followers AS audience
                  FROM items i JOIN instagram_post p ON p.id = i.instagram_post_id JOIN instagram_account a ON a.id = p.account_id
                UNION ALL
                SELECT v.likes, v.comments, v.views, y.subscribers
                  FROM items i JOIN youtube_video v ON v.id = i.youtube_video_id JOIN youtube_account y ON y.id = v.account_id)
         INSERT INTO collection_post_metrics_summary
                (post_collection_id, total_posts, total_likes, total_comments, total_views, avg_engagement_rate, computed_at)
         SELECT $1, count(*), COALESCE(sum(likes), 0), COALESCE(sum(comments), 0), COALESCE(sum(views), 0),
                COALESCE(avg((likes + comments)::float8 / NULLIF(audience, 0) * 100), 0), now()
           FROM posts
         ON CONFLICT (post_collection_id) DO UPDATE SET
                total_posts = EXCLUDED.total_posts, total_likes = EXCLUDED.total_likes, total_comments = EXCLUDED.total_comments,
                total_views = EXCLUDED.total_views, avg_engagement_rate = EXCLUDED.avg_engagement_rate, computed_at = EXCLUDED.computed_at
         RETURNING post_collection_id, total_posts, total_likes, total_comments, total_views, avg_engagement_rate, computed_at",
    )
    .bind(collection_id)
    .fetch_one(&mut *tx)
    .await?;
    Ok(summary)
}
