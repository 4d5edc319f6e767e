-- The monthly aggregates' view again, on the series table under its name (same text as the
-- view it replaces).
CREATE MATERIALIZED VIEW IF NOT EXISTS profile_monthly_stats_mv TO profile_monthly_stats
AS SELECT
    platform,
    toStartOfMonth(date) AS month,
    profile_id,
    argMinState(followers, bitOr(bitShiftLeft(toUInt64(toUInt16(date)), 32), toUInt64(4294967295 - toUInt32(ingested_at)))) AS followers_start,
    argMaxState(followers, bitOr(bitShiftLeft(toUInt64(toUInt16(date)), 32), toUInt64(toUInt32(ingested_at)))) AS followers_end,
    argMaxState(engagement_rate, bitOr(bitShiftLeft(toUInt64(toUInt16(date)), 32), toUInt64(toUInt32(ingested_at)))) AS engagement_rate_end,
    argMaxState(avg_views, bitOr(bitShiftLeft(toUInt64(toUInt16(date)), 32), toUInt64(toUInt32(ingested_at)))) AS avg_views_end,
    argMaxState(category, bitOr(bitShiftLeft(toUInt64(toUInt16(date)), 32), toUInt64(toUInt32(ingested_at)))) AS category,
    uniqState(date) AS days_reported
FROM social_profile_time_series
GROUP BY platform, month, profile_id
