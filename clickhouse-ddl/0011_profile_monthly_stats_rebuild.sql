-- Rebuilds profile_monthly_stats from the raw series: every month loaded before 0007, and any
-- row that arrived while the view was being replaced (a row the view also saw is counted once:
-- the states are duplicate-insensitive).
INSERT INTO profile_monthly_stats
SELECT
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
