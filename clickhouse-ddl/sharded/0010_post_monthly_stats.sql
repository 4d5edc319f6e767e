CREATE TABLE IF NOT EXISTS post_monthly_stats AS post_monthly_stats_local
ENGINE = Distributed({cluster}, {database}, post_monthly_stats_local, sipHash64(profile_id))
