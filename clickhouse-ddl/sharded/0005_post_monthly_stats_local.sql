-- A shard's monthly post values (the states of ../0014).
CREATE TABLE IF NOT EXISTS post_monthly_stats_local
(
    platform      Enum8('instagram' = 1, 'youtube' = 2),
    month         Date,
    profile_id    UInt64,
    post_id       UInt64,
    views_end     AggregateFunction(argMax, UInt64, UInt64),
    likes_end     AggregateFunction(argMax, UInt64, UInt64),
    comments_end  AggregateFunction(argMax, UInt64, UInt64)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(month)
ORDER BY (platform, month, profile_id, post_id)
