CREATE MATERIALIZED VIEW IF NOT EXISTS post_monthly_stats_mv TO post_monthly_stats_local
AS SELECT
    platform,
    toStartOfMonth(date) AS month,
    profile_id,
    post_id,
    argMaxState(views, (date, ingested_at)) AS views_end,
    argMaxState(likes, (date, ingested_at)) AS likes_end,
    argMaxState(comments, (date, ingested_at)) AS comments_end
FROM post_metrics_time_series_local
GROUP BY platform, month, profile_id, post_id
