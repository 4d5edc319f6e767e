-- The monthly aggregates are rebuilt (files 0007 to 0011): their month-end and month-start
-- values were ordered by date alone, so after a re-scrape the day's old and new rows tied and
-- the answer depended on which state merged last, and max(avg_views) kept values a re-scrape
-- had superseded. First the view stops feeding the old table; rows inserted until the new view
-- exists are picked up by the rebuild in 0011.
DROP TABLE IF EXISTS profile_monthly_stats_mv
