-- Monthly per-profile aggregates behind the leaderboards and monthly growth, kept current by the
-- view in 0010. A day can be loaded more than once (a forced re-scrape brings new values for
-- today), so every value is chosen by (date, ingested_at): the month's last day, and on that
-- day the newest load; the month's first day, and on that day the newest load (argMin over
-- (date, -ingested_at)). Every state is also duplicate-insensitive (argMin/argMax/uniq), so
-- loading the same row twice cannot skew a month, and the rebuild in 0011 may overlap the view.
-- Read with: argMinMerge(followers_start), argMaxMerge(followers_end), ... GROUP BY platform, month, profile_id.
CREATE TABLE IF NOT EXISTS profile_monthly_stats
(
    platform             Enum8('instagram' = 1, 'youtube' = 2),
    month                Date,
    profile_id           UInt64,
    followers_start      AggregateFunction(argMin, UInt64, Tuple(Date, Int64)),
    followers_end        AggregateFunction(argMax, UInt64, Tuple(Date, DateTime)),
    engagement_rate_end  AggregateFunction(argMax, Float32, Tuple(Date, DateTime)),
    avg_views_end        AggregateFunction(argMax, Float64, Tuple(Date, DateTime)),
    category             AggregateFunction(argMax, String, Tuple(Date, DateTime)),
    days_reported        AggregateFunction(uniq, Date)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(month)
ORDER BY (platform, month, profile_id)
