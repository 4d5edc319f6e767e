-- The post aggregates are rebuilt the same way (0012 to 0016): a month's views, likes and
-- comments were the month's maximum, which keeps a value that a re-scrape corrected downwards
-- (counters do fall: deleted likes, removed views). They become the month's last day's values,
-- newest load first.
DROP TABLE IF EXISTS post_monthly_stats_mv
