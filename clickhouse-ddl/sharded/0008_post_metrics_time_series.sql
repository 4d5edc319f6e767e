CREATE TABLE IF NOT EXISTS post_metrics_time_series AS post_metrics_time_series_local
ENGINE = Distributed({cluster}, {database}, post_metrics_time_series_local, sipHash64(profile_id))
