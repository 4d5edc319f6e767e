-- What beat writes and coffee reads: rows go to the shard of their profile (inserts wait for
-- every shard, `insert_distributed_sync`, so a written refresh is readable and a shard that is
-- down fails the insert instead of queueing it), reads ask every shard and fail if one is away.
CREATE TABLE IF NOT EXISTS social_profile_time_series AS social_profile_time_series_local
ENGINE = Distributed({cluster}, {database}, social_profile_time_series_local, sipHash64(profile_id))
