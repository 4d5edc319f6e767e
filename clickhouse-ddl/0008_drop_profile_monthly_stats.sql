-- The old aggregates go; 0009 creates them with states ordered by (date, ingested_at).
DROP TABLE IF EXISTS profile_monthly_stats
