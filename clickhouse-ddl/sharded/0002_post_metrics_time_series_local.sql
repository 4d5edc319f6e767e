-- A shard's part of the post series (see 0001 and ../0002).
CREATE TABLE IF NOT EXISTS post_metrics_time_series_local
(
    platform     Enum8('instagram' = 1, 'youtube' = 2),
    profile_id   UInt64,
    post_id      UInt64,
    date         Date,
    likes        UInt64,
    comments     UInt64,
    views        UInt64,
    ingested_at  DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(date)
ORDER BY (platform, profile_id, post_id, date)
SETTINGS index_granularity = 8192
