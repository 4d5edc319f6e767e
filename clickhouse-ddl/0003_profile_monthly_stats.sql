-- Monthly per-profile aggregates behind the leaderboards, kept current by the materialized view
-- in the next file. Every state is duplicate-insensitive (argMin/argMax/max/uniq), so re-loading
-- a day that was already loaded cannot skew a month.
-- Read with: argMinMerge(followers_start), argMaxMerge(followers_end), ... GROUP BY platform, month, profile_id.
CREATE TABLE IF NOT EXISTS profile_monthly_stats
(
    platform             Enum8('instagram' = 1, 'youtube' = 2),
    month                Date,
    profile_id           UInt64,
    followers_start      AggregateFunction(argMin, UInt64, Date),
    followers_end        AggregateFunction(argMax, UInt64, Date),
    engagement_rate_end  AggregateFunction(argMax, Float32, Date),
    avg_views_end        AggregateFunction(argMax, Float64, Date),
    max_avg_views        AggregateFunction(max, Float64),
    category             AggregateFunction(argMax, String, Date),
    days_reported        AggregateFunction(uniq, Date)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(month)
ORDER BY (platform, month, profile_id)
