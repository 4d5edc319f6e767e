//! The analytics queries, once per store. Both implementations read the request's lazy
//! session, so an analytics request never opens a Postgres transaction (ClickHouse) and a
//! baseline run never opens a ClickHouse session (Postgres).

use std::future::Future;

use chrono::{Datelike, NaiveDate};
use clickhouse::Row;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::core::context::RequestContext;
use crate::core::error::StoreResult;
use crate::core::observe::Store;
use crate::domain::Platform;

/// A series' buckets: days, calendar weeks (Monday to Sunday) or calendar months. A bucket is
/// dated by its first day within the asked range: the first week or month starts at `from`
/// when `from` falls inside it, so no point is dated before the range asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema, Default)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    #[default]
    Day,
    Week,
    Month,
}

/// One point of a profile's series: the last reported values in the bucket, dated by the
/// bucket's first day within the asked range (see [`Granularity`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Row, ToSchema)]
pub struct Point {
    #[serde(deserialize_with = "clickhouse::serde::chrono::date::deserialize")]
    #[schema(value_type = String, format = Date)]
    pub date: NaiveDate,
    pub followers: u64,
    pub following: u64,
    pub posts: u32,
    pub engagement_rate: f32,
    pub avg_likes: f64,
    pub avg_comments: f64,
    pub avg_views: f64,
}

/// First and last reported values of a profile in a range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Row, ToSchema)]
pub struct GrowthRow {
    pub profile_id: u64,
    #[serde(deserialize_with = "clickhouse::serde::chrono::date::deserialize")]
    #[schema(value_type = String, format = Date)]
    pub first_date: NaiveDate,
    #[serde(deserialize_with = "clickhouse::serde::chrono::date::deserialize")]
    #[schema(value_type = String, format = Date)]
    pub last_date: NaiveDate,
    pub followers_start: u64,
    pub followers_end: u64,
    pub engagement_start: f32,
    pub engagement_end: f32,
}

/// A platform's month: how many profiles reported and their summed audience.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Row, ToSchema)]
pub struct MonthRow {
    #[serde(deserialize_with = "clickhouse::serde::chrono::date::deserialize")]
    #[schema(value_type = String, format = Date)]
    pub month: NaiveDate,
    pub profiles: u64,
    pub followers_start: u64,
    pub followers_end: u64,
}

/// A profile's month for the leaderboards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Row, ToSchema)]
pub struct MonthlyStat {
    pub profile_id: u64,
    pub category: String,
    pub followers_start: u64,
    pub followers_end: u64,
    pub engagement_rate: f32,
    pub avg_views: f64,
}

/// Which number ranks a leaderboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    #[default]
    Followers,
    EngagementRate,
    Views,
    FollowerGrowth,
}

/// The analytics queries; one implementation per store.
pub trait AnalyticsDao {
    fn series(
        &self,
        ctx: &RequestContext,
        platform: Platform,
        profile_id: i64,
        from: NaiveDate,
        to: NaiveDate,
        g: Granularity,
    ) -> impl Future<Output = StoreResult<Vec<Point>>> + Send;
    fn growth(
        &self,
        ctx: &RequestContext,
        platform: Platform,
        profile_ids: &[i64],
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Future<Output = StoreResult<Vec<GrowthRow>>> + Send;
    fn monthly_growth(
        &self,
        ctx: &RequestContext,
        platform: Platform,
        from_month: NaiveDate,
        to_month: NaiveDate,
    ) -> impl Future<Output = StoreResult<Vec<MonthRow>>> + Send;
    /// A month's top `limit` profiles by `metric`, optionally within one category.
    fn top(
        &self,
        ctx: &RequestContext,
        platform: Platform,
        month: NaiveDate,
        metric: Metric,
        category: Option<&str>,
        limit: u32,
    ) -> impl Future<Output = StoreResult<Vec<MonthlyStat>>> + Send;
}

pub struct ChAnalyticsDao;
pub struct PgAnalyticsDao;

/// The bucket of day `d` for a week or month series from `from` (a date, so the literal
/// carries no input text).
fn ch_bucket(g: Granularity, from: NaiveDate) -> String {
    match g {
        Granularity::Day => "d".to_owned(),
        Granularity::Week => format!("greatest(toMonday(d), toDate('{from}'))"),
        Granularity::Month => format!("greatest(toStartOfMonth(d), toDate('{from}'))"),
    }
}

fn ch_order(metric: Metric) -> &'static str {
    match metric {
        Metric::Followers => "followers_end",
        Metric::EngagementRate => "engagement_rate",
        Metric::Views => "avg_views",
        Metric::FollowerGrowth => "toInt64(followers_end) - toInt64(followers_start)",
    }
}

/// A row's place in "last day, newest load" order as one number: the day in the high 32 bits,
/// `ingested_at` in the low ones (`argMax` by it picks the last day's newest load). The monthly
/// aggregates use the same keys (clickhouse-ddl 0009-0016): a number compares faster than a
/// tuple.
pub const LAST_DAY_NEWEST_LOAD: &str =
    "bitOr(bitShiftLeft(toUInt64(toUInt16(date)), 32), toUInt64(toUInt32(ingested_at)))";
/// "First day, newest load" for `argMin`: the day high, `2^32-1 - ingested_at` low.
pub const FIRST_DAY_NEWEST_LOAD: &str =
    "bitOr(bitShiftLeft(toUInt64(toUInt16(date)), 32), toUInt64(4294967295 - toUInt32(ingested_at)))";

/// The first days of the months inside `from..=to`: a range's months as the aggregates key them.
fn months_between(from: NaiveDate, to: NaiveDate) -> Vec<NaiveDate> {
    let next = |m: NaiveDate| m.checked_add_months(chrono::Months::new(1));
    let first = from.with_day(1).filter(|m| *m >= from).or_else(|| from.with_day(1).and_then(next));
    std::iter::successors(first, |m| next(*m)).take_while(|m| *m <= to).collect()
}

/// Validated integer ids rendered as an `IN (…)` list: unlike `has(?, profile_id)`, `IN` lets
/// ClickHouse use the primary key. Integers carry no quoting, so this is injection-safe.
fn id_list(ids: &[i64]) -> String {
    let list: Vec<String> = ids.iter().filter(|i| **i > 0).map(i64::to_string).collect();
    if list.is_empty() {
        "0".to_owned()
    } else {
        list.join(", ")
    }
}

impl AnalyticsDao for ChAnalyticsDao {
    async fn series(
        &self,
        ctx: &RequestContext,
        platform: Platform,
        profile_id: i64,
        from: NaiveDate,
        to: NaiveDate,
        g: Granularity,
    ) -> StoreResult<Vec<Point>> {
        ctx.timed(Store::ClickHouse, "series", async move {
            // days: one pass, each day's newest load (a third faster than the bucketed form,
            // which a day does not need); weeks and months: dedupe re-loaded days first (newest
            // ingest wins), then keep each bucket's last day
            let sql = if g == Granularity::Day {
                "SELECT date, argMax(followers, ingested_at) AS followers, argMax(following, ingested_at) AS following, \
                        argMax(posts, ingested_at) AS posts, argMax(engagement_rate, ingested_at) AS engagement_rate, \
                        argMax(avg_likes, ingested_at) AS avg_likes, argMax(avg_comments, ingested_at) AS avg_comments, \
                        argMax(avg_views, ingested_at) AS avg_views \
                 FROM social_profile_time_series \
                 WHERE platform = ? AND profile_id = ? AND date >= toDate(?) AND date <= toDate(?) \
                 GROUP BY date ORDER BY date"
                    .to_owned()
            } else {
                format!(
                "SELECT {bucket} AS date, argMax(f, d) AS followers, argMax(fo, d) AS following, argMax(p, d) AS posts, \
                        argMax(er, d) AS engagement_rate, argMax(al, d) AS avg_likes, argMax(ac, d) AS avg_comments, argMax(av, d) AS avg_views \
                 FROM (SELECT date AS d, argMax(followers, ingested_at) AS f, argMax(following, ingested_at) AS fo, argMax(posts, ingested_at) AS p, \
                              argMax(engagement_rate, ingested_at) AS er, argMax(avg_likes, ingested_at) AS al, \
                              argMax(avg_comments, ingested_at) AS ac, argMax(avg_views, ingested_at) AS av \
                       FROM social_profile_time_series \
                       WHERE platform = ? AND profile_id = ? AND date >= toDate(?) AND date <= toDate(?) GROUP BY date) \
                 GROUP BY date ORDER BY date",
                    bucket = ch_bucket(g, from)
                )
            };
            Ok(ctx
                .ch
                .client()
                .await?
                .query(&sql)
                .bind(platform.as_str())
                .bind(profile_id)
                .bind(from.to_string())
                .bind(to.to_string())
                .fetch_all()
                .await?)
        })
        .await
    }

    async fn growth(
        &self,
        ctx: &RequestContext,
        platform: Platform,
        profile_ids: &[i64],
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<GrowthRow>> {
        ctx.timed(Store::ClickHouse, "growth", async move {
            // a re-loaded day has several rows: the first and last days' newest loads count
            let sql = format!(
                "SELECT profile_id, min(date) AS first_date, max(date) AS last_date, \
                              argMin(followers, {first}) AS followers_start, argMax(followers, {last}) AS followers_end, \
                              argMin(engagement_rate, {first}) AS engagement_start, \
                              argMax(engagement_rate, {last}) AS engagement_end \
                       FROM social_profile_time_series \
                       WHERE platform = ? AND profile_id IN ({ids}) AND date >= toDate(?) AND date <= toDate(?) \
                       GROUP BY profile_id ORDER BY profile_id",
                ids = id_list(profile_ids),
                first = FIRST_DAY_NEWEST_LOAD,
                last = LAST_DAY_NEWEST_LOAD,
            );
            Ok(ctx
                .ch
                .client()
                .await?
                .query(&sql)
                .bind(platform.as_str())
                .bind(from.to_string())
                .bind(to.to_string())
                .fetch_all()
                .await?)
        })
        .await
    }

    async fn monthly_growth(
        &self,
        ctx: &RequestContext,
        platform: Platform,
        from_month: NaiveDate,
        to_month: NaiveDate,
    ) -> StoreResult<Vec<MonthRow>> {
        ctx.timed(Store::ClickHouse, "monthly_growth", async move {
            // One deduplicating aggregation per month, glued with UNION ALL: a month's profiles
            // fit the CPU cache as one hash table, a year's (twelve times the keys) does not, and
            // measured at 20M rows the per-month form answers in about 0.6x the time of one
            // GROUP BY (month, profile_id). The answer is identical; an empty month has no row.
            let months = months_between(from_month, to_month);
            if months.is_empty() {
                return Ok(Vec::new());
            }
            let one_month = "SELECT month, count() AS profiles, sum(f0) AS followers_start, sum(f1) AS followers_end \
                             FROM (SELECT month, profile_id, argMinMerge(followers_start) AS f0, argMaxMerge(followers_end) AS f1 \
                                   FROM profile_monthly_stats WHERE platform = ? AND month = toDate(?) \
                                   GROUP BY month, profile_id) \
                             GROUP BY month";
            let sql = format!(
                "SELECT month, profiles, followers_start, followers_end FROM ({}) ORDER BY month",
                vec![one_month; months.len()].join(" UNION ALL ")
            );
            let mut query = ctx.ch.client().await?.query(&sql);
            for month in &months {
                query = query.bind(platform.as_str()).bind(month.to_string());
            }
            Ok(query.fetch_all().await?)
        })
        .await
    }

    async fn top(
        &self,
        ctx: &RequestContext,
        platform: Platform,
        month: NaiveDate,
        metric: Metric,
        category: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<MonthlyStat>> {
        ctx.timed(Store::ClickHouse, "top", async move {
            let sql = format!(
                "SELECT profile_id, category, followers_start, followers_end, engagement_rate, avg_views FROM \
                   (SELECT profile_id, argMaxMerge(category) AS category, argMinMerge(followers_start) AS followers_start, \
                           argMaxMerge(followers_end) AS followers_end, argMaxMerge(engagement_rate_end) AS engagement_rate, \
                           argMaxMerge(avg_views_end) AS avg_views \
                    FROM profile_monthly_stats WHERE platform = ? AND month = toDate(?) GROUP BY profile_id) \
                 WHERE ? = '' OR category = ? \
                 ORDER BY {} DESC, profile_id LIMIT ?",
                ch_order(metric)
            );
            let category = category.unwrap_or_default();
            Ok(ctx
                .ch
                .client()
                .await?
                .query(&sql)
                .bind(platform.as_str())
                .bind(month.to_string())
                .bind(category)
                .bind(category)
                .bind(limit)
                .fetch_all()
                .await?)
        })
        .await
    }
}

/// Rows of the Postgres baseline, decoded from sqlx and converted to the shared shapes.
/// As [`ch_bucket`]; `$3` is `from`.
fn pg_bucket(g: Granularity) -> &'static str {
    match g {
        Granularity::Day => "date",
        Granularity::Week => "greatest(date_trunc('week', date)::date, $3)",
        Granularity::Month => "greatest(date_trunc('month', date)::date, $3)",
    }
}

fn pg_order(metric: Metric) -> &'static str {
    match metric {
        Metric::Followers => "followers_end",
        Metric::EngagementRate => "engagement_rate",
        Metric::Views => "avg_views",
        Metric::FollowerGrowth => "followers_end - followers_start",
    }
}

type PgPoint = (NaiveDate, i64, i64, i32, f32, f64, f64, f64);

impl AnalyticsDao for PgAnalyticsDao {
    async fn series(
        &self,
        ctx: &RequestContext,
        platform: Platform,
        profile_id: i64,
        from: NaiveDate,
        to: NaiveDate,
        g: Granularity,
    ) -> StoreResult<Vec<Point>> {
        ctx.timed(Store::Postgres, "series", async move {
            let sql = format!(
                "SELECT bucket, (array_agg(followers ORDER BY date DESC))[1], (array_agg(following ORDER BY date DESC))[1], \
                        (array_agg(posts ORDER BY date DESC))[1], (array_agg(engagement_rate ORDER BY date DESC))[1], \
                        (array_agg(avg_likes ORDER BY date DESC))[1], (array_agg(avg_comments ORDER BY date DESC))[1], \
                        (array_agg(avg_views ORDER BY date DESC))[1] \
                 FROM (SELECT {} AS bucket, * FROM social_profile_time_series \
                       WHERE platform = $1 AND profile_id = $2 AND date BETWEEN $3 AND $4) s \
                 GROUP BY bucket ORDER BY bucket",
                pg_bucket(g)
            );
            let mut tx = ctx.pg.read().await?;
            let rows: Vec<PgPoint> = sqlx::query_as(&sql)
                .bind(platform.as_str())
                .bind(profile_id)
                .bind(from)
                .bind(to)
                .fetch_all(&mut *tx)
                .await?;
            Ok(rows
                .into_iter()
                .map(|(date, f, fo, p, er, al, ac, av)| Point {
                    date,
                    followers: f as u64,
                    following: fo as u64,
                    posts: p as u32,
                    engagement_rate: er,
                    avg_likes: al,
                    avg_comments: ac,
                    avg_views: av,
                })
                .collect())
        })
        .await
    }

    async fn growth(
        &self,
        ctx: &RequestContext,
        platform: Platform,
        profile_ids: &[i64],
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<GrowthRow>> {
        ctx.timed(Store::Postgres, "growth", async move {
            let mut tx = ctx.pg.read().await?;
            let rows: Vec<(i64, NaiveDate, NaiveDate, i64, i64, f32, f32)> = sqlx::query_as(
                "SELECT profile_id, min(date), max(date), (array_agg(followers ORDER BY date))[1], (array_agg(followers ORDER BY date DESC))[1], \
                        (array_agg(engagement_rate ORDER BY date))[1], (array_agg(engagement_rate ORDER BY date DESC))[1] \
                 FROM social_profile_time_series WHERE platform = $1 AND profile_id = ANY($2) AND date BETWEEN $3 AND $4 \
                 GROUP BY profile_id ORDER BY profile_id",
            )
            .bind(platform.as_str())
            .bind(profile_ids)
            .bind(from)
            .bind(to)
            .fetch_all(&mut *tx)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(id, d0, d1, f0, f1, e0, e1)| GrowthRow {
                    profile_id: id as u64,
                    first_date: d0,
                    last_date: d1,
                    followers_start: f0 as u64,
                    followers_end: f1 as u64,
                    engagement_start: e0,
                    engagement_end: e1,
                })
                .collect())
        })
        .await
    }

    async fn monthly_growth(
        &self,
        ctx: &RequestContext,
        platform: Platform,
        from_month: NaiveDate,
        to_month: NaiveDate,
    ) -> StoreResult<Vec<MonthRow>> {
        ctx.timed(Store::Postgres, "monthly_growth", async move {
            let mut tx = ctx.pg.read().await?;
            let rows: Vec<(NaiveDate, i64, i64, i64)> = sqlx::query_as(
                "SELECT month, count(*), sum(f0)::int8, sum(f1)::int8 FROM \
                   (SELECT date_trunc('month', date)::date AS month, profile_id, \
                           (array_agg(followers ORDER BY date))[1] AS f0, (array_agg(followers ORDER BY date DESC))[1] AS f1 \
                    FROM social_profile_time_series \
                    WHERE platform = $1 AND date >= $2 AND date < ($3::date + interval '1 month') \
                    GROUP BY 1, 2) m \
                 GROUP BY month ORDER BY month",
            )
            .bind(platform.as_str())
            .bind(from_month)
            .bind(to_month)
            .fetch_all(&mut *tx)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(month, n, f0, f1)| MonthRow {
                    month,
                    profiles: n as u64,
                    followers_start: f0 as u64,
                    followers_end: f1 as u64,
                })
                .collect())
        })
        .await
    }

    async fn top(
        &self,
        ctx: &RequestContext,
        platform: Platform,
        month: NaiveDate,
        metric: Metric,
        category: Option<&str>,
        limit: u32,
    ) -> StoreResult<Vec<MonthlyStat>> {
        ctx.timed(Store::Postgres, "top", async move {
            let sql = format!(
                "SELECT profile_id, category, followers_start, followers_end, engagement_rate, avg_views FROM \
                   (SELECT profile_id, (array_agg(category ORDER BY date DESC))[1] AS category, \
                           (array_agg(followers ORDER BY date))[1] AS followers_start, (array_agg(followers ORDER BY date DESC))[1] AS followers_end, \
                           (array_agg(engagement_rate ORDER BY date DESC))[1] AS engagement_rate, (array_agg(avg_views ORDER BY date DESC))[1] AS avg_views \
                    FROM social_profile_time_series \
                    WHERE platform = $1 AND date >= $2 AND date < ($2::date + interval '1 month') GROUP BY profile_id) m \
                 WHERE $3 = '' OR category = $3 \
                 ORDER BY {} DESC, profile_id LIMIT $4",
                pg_order(metric)
            );
            let mut tx = ctx.pg.read().await?;
            let rows: Vec<(i64, String, i64, i64, f32, f64)> = sqlx::query_as(&sql)
                .bind(platform.as_str())
                .bind(month)
                .bind(category.unwrap_or_default())
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
            Ok(rows
                .into_iter()
                .map(|(id, category, f0, f1, er, av)| MonthlyStat {
                    profile_id: id as u64,
                    category,
                    followers_start: f0 as u64,
                    followers_end: f1 as u64,
                    engagement_rate: er,
                    avg_views: av,
                })
                .collect())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn months_between_keeps_the_first_days_inside_the_range() {
        assert_eq!(
            months_between(d("2026-01-01"), d("2026-03-01")),
            [d("2026-01-01"), d("2026-02-01"), d("2026-03-01")]
        );
        assert_eq!(months_between(d("2026-01-15"), d("2026-03-31")), [d("2026-02-01"), d("2026-03-01")]);
        assert!(months_between(d("2026-01-02"), d("2026-01-31")).is_empty());
        assert!(months_between(d("2026-03-01"), d("2026-01-01")).is_empty());
        assert_eq!(months_between(NaiveDate::MAX, NaiveDate::MAX), Vec::<NaiveDate>::new());
    }
}
