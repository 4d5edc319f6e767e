-- The sharded layout (applied instead of ../ when CH_CLUSTER is set, on every shard): each shard
-- keeps its part of the raw series and its own monthly aggregates in `*_local` tables; the
-- tables the services use carry the single-node names and are `Distributed` over the locals
-- (0007-0010), sharded by profile_id, so every profile's rows and monthly states live on one
-- shard and each shard's aggregates are complete for its profiles. `{cluster}` and `{database}`
-- are filled in by the applier. Same columns and rules as ../0001.
CREATE TABLE IF NOT EXISTS social_profile_time_series_local
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
