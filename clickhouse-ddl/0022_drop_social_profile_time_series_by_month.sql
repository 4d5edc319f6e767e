-- The old layout's copy is no longer read.
DROP TABLE IF EXISTS social_profile_time_series_by_month
