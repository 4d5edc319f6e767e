-- The monthly aggregates' view stops while the series table is swapped, so it cannot follow
-- the old table under its new name; it is created again on the new one afterwards.
DROP TABLE IF EXISTS profile_monthly_stats_mv
