CREATE MATERIALIZED VIEW IF NOT EXISTS post_monthly_stats_mv TO post_monthly_stats
AS SELECT
    platform,
    toStartOfMonth(date) AS month,
    profile_id,
    post_id,
    maxState(views) AS max_views,
    maxState(likes) AS max_likes,
    maxState(comments) AS max_comments
FROM post_metrics_time_series
GROUP BY platform, month, profile_id, post_id
