-- Monthly per-post peaks (views/likes/comments are cumulative counters, so the month's max is
-- the month-end value), kept current by the view in the next file.
CREATE TABLE IF NOT EXISTS post_monthly_stats
(
    platform     Enum8('instagram' = 1, 'youtube' = 2),
    month        Date,
    profile_id   UInt64,
    post_id      UInt64,
    max_views    AggregateFunction(max, UInt64),
    max_likes    AggregateFunction(max, UInt64),
    max_comments AggregateFunction(max, UInt64)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(month)
ORDER BY (platform, month, profile_id, post_id)
