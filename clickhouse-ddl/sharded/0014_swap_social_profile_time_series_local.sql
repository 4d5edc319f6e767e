-- The new table takes the name every reader and writer uses.
RENAME TABLE social_profile_time_series_local TO social_profile_time_series_local_by_month, social_profile_time_series_local_by_year TO social_profile_time_series_local
