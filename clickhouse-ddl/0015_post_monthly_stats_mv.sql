CREATE MATERIALIZED VIEW IF NOT EXISTS post_monthly_stats_mv TO post_monthly_stats
AS SELECT
    platform,
    toStartOfMonth(date) AS month,
    profile_id,
    post_id,
    argMaxState(views, bitOr(bitShiftLeft(toUInt64(toUInt16(date)), 32), toUInt64(toUInt32(ingested_at)))) AS views_end,
    argMaxState(likes, bitOr(bitShiftLeft(toUInt64(toUInt16(date)), 32), toUInt64(toUInt32(ingested_at)))) AS likes_end,
    argMaxState(comments, bitOr(bitShiftLeft(toUInt64(toUInt16(date)), 32), toUInt64(toUInt32(ingested_at)))) AS comments_end
FROM post_metrics_time_series
GROUP BY platform, month, profile_id, post_id
