-- A shard's monthly aggregates of its profiles (the states of ../0009).
CREATE TABLE IF NOT EXISTS profile_monthly_stats_local
(
    platform             Enum8('instagram' = 1, 'youtube' = 2),
    month                Date,
    profile_id           UInt64,
    followers_start      AggregateFunction(argMin, UInt64, UInt64),
    followers_end        AggregateFunction(argMax, UInt64, UInt64),
    engagement_rate_end  AggregateFunction(argMax, Float32, UInt64),
    avg_views_end        AggregateFunction(argMax, Float64, UInt64),
    category             AggregateFunction(argMax, String, UInt64),
    days_reported        AggregateFunction(uniq, Date)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(month)
ORDER BY (platform, month, profile_id)
