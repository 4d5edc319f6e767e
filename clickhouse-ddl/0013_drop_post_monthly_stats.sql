DROP TABLE IF EXISTS post_monthly_stats
