-- Reads merge each shard's states (a profile's states are all on its shard).
CREATE TABLE IF NOT EXISTS profile_monthly_stats AS profile_monthly_stats_local
ENGINE = Distributed({cluster}, {database}, profile_monthly_stats_local, sipHash64(profile_id))
