-- Feeds a shard's monthly aggregates from the rows the Distributed table hands that shard.
CREATE MATERIALIZED VIEW IF NOT EXISTS profile_monthly_stats_mv TO profile_monthly_stats_local
AS SELECT
    platform,
    toStartOfMonth(date) AS month,
    profile_id,
    argMinState(followers, (date, -toInt64(ingested_at))) AS followers_start,
    argMaxState(followers, (date, ingested_at)) AS followers_end,
    argMaxState(engagement_rate, (date, ingested_at)) AS engagement_rate_end,
    argMaxState(avg_views, (date, ingested_at)) AS avg_views_end,
    argMaxState(category, (date, ingested_at)) AS category,
    uniqState(date) AS days_reported
FROM social_profile_time_series_local
GROUP BY platform, month, profile_id
