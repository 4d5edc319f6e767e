-- Copies every row into the new layout (the aggregates are untouched: their view is off). With
-- replicas, each replica of a shard copies its rows and the copies meet in the replicated table:
-- a row may arrive twice, which the table's merge collapses and every reader already resolves
-- (the newest load of a day wins, and both copies are that load).
INSERT INTO social_profile_time_series_local_by_year SELECT * FROM social_profile_time_series_local
