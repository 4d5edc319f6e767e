-- One row per profile per day. Sorted by (platform, profile_id, date): a profile's range is one
-- contiguous slice, and a platform's scan reads one prefix. Re-loading a day is idempotent: rows
-- with the same sort key collapse to the newest `ingested_at` on merge; readers that must be exact
-- before a merge use FINAL or argMax(…, ingested_at).
-- Written for ClickHouse 18.16 and current releases alike (no CODEC, no skip indexes,
-- no LowCardinality, no DateTime64).
CREATE TABLE IF NOT EXISTS social_profile_time_series
(
    platform         Enum8('instagram' = 1, 'youtube' = 2),
    profile_id       UInt64,
    date             Date,
    followers        UInt64,
    following        UInt64,
    posts            UInt32,
    engagement_rate  Float32,
    avg_likes        Float64,
    avg_comments     Float64,
    avg_views        Float64,
    category         String,
    ingested_at      DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(date)
ORDER BY (platform, profile_id, date)
SETTINGS index_granularity = 8192
