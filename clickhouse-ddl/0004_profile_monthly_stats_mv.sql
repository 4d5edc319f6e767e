-- Feeds profile_monthly_stats from every insert into social_profile_time_series.
CREATE MATERIALIZED VIEW IF NOT EXISTS profile_monthly_stats_mv TO profile_monthly_stats
AS SELECT
    platform,
    toStartOfMonth(date) AS month,
    profile_id,
    argMinState(followers, date) AS followers_start,
    argMaxState(followers, date) AS followers_end,
    argMaxState(engagement_rate, date) AS engagement_rate_end,
    argMaxState(avg_views, date) AS avg_views_end,
    maxState(avg_views) AS max_avg_views,
    argMaxState(category, date) AS category,
    uniqState(date) AS days_reported
FROM social_profile_time_series
GROUP BY platform, month, profile_id
