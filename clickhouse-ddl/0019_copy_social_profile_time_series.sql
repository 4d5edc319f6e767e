-- Copies every row into the new layout (the aggregates are untouched: their view is off).
INSERT INTO social_profile_time_series_by_year SELECT * FROM social_profile_time_series
