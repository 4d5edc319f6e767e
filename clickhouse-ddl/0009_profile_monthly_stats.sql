-- Monthly per-profile aggregates behind the leaderboards and monthly growth, kept current by the
-- view in 0010. A day can be loaded more than once (a forced re-scrape brings new values for
-- today), so every value is chosen by (date, ingested_at): the month's last day, and on that
-- day the newest load; the month's first day, and on that day the newest load. The pair is one
-- UInt64, the day number in the high 32 bits and ingested_at (or, for the first day,
-- 2^32-1 - ingested_at) in the low ones, so the states compare plain numbers (a Tuple key made
-- the leaderboard twice as slow). Every state is also duplicate-insensitive (argMin/argMax/
-- uniq), so loading the same row twice cannot skew a month, and the rebuild in 0011 may overlap
-- the view.
-- Read with: argMinMerge(followers_start), argMaxMerge(followers_end), ... GROUP BY platform, month, profile_id.
CREATE TABLE IF NOT EXISTS profile_monthly_stats
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
