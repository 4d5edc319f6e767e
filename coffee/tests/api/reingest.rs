//! Re-scrapes never change a past answer except to the newest value: random days of the
//! generated series are loaded again with different values (a forced refresh re-inserts today's
//! row), in random order and batches, each batch newer than the one before; then every analytics
//! answer (the monthly aggregates behind the leaderboards and monthly growth, and the raw-series
//! queries behind growth and time series) must equal the answer computed here from the raw
//! series read with `FINAL` (one row per day: the newest load), before and after the tables'
//! parts are merged (`OPTIMIZE … FINAL`). The suite runs on the 18.16 test server and, in
//! `cargo stack test`, again on a current ClickHouse engine.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use coffee::core::context::RequestContext;
use coffee::domain::Platform;
use coffee::modules::analytics::dao::{AnalyticsDao, ChAnalyticsDao, Granularity, Metric, MonthRow, Point};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::support::*;

#[derive(Debug, Clone, PartialEq, clickhouse::Row, Serialize, Deserialize)]
pub(crate) struct Day {
    /// the table's `Enum8('instagram' = 1, 'youtube' = 2)`
    platform: i8,
    profile_id: u64,
    #[serde(with = "clickhouse::serde::chrono::date")]
    date: NaiveDate,
    followers: u64,
    following: u64,
    posts: u32,
    engagement_rate: f32,
    avg_likes: f64,
    avg_comments: f64,
    avg_views: f64,
    category: String,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    ingested_at: DateTime<Utc>,
}

pub(crate) const PLATFORMS: [(Platform, i8); 2] = [(Platform::Instagram, 1), (Platform::Youtube, 2)];
pub(crate) const MONTHS: [&str; 2] = ["2026-09-01", "2026-10-01"];

pub(crate) fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn month_of(date: NaiveDate) -> NaiveDate {
    date.with_day0(0).unwrap()
}

use chrono::Datelike;

/// Every (platform, profile, day) row as `FINAL` reads it: the newest load of each day.
pub(crate) async fn final_series(ch: &clickhouse::Client) -> Vec<Day> {
    ch.query(
        "SELECT toInt8(platform) AS platform, profile_id, date, followers, following, posts, engagement_rate, avg_likes, \
                avg_comments, avg_views, category, ingested_at \
         FROM social_profile_time_series FINAL ORDER BY platform, profile_id, date",
    )
    .fetch_all()
    .await
    .unwrap()
}

/// `count` random days of `days` with different values, in `batches`, each batch stamped a
/// minute after the previous (and after every load in `days`), rows shuffled.
pub(crate) fn random_reloads(mut days: Vec<Day>, rng: &mut impl Rng, count: usize, batches: usize) -> Vec<Vec<Day>> {
    days.shuffle(rng);
    let newest = days.iter().map(|r| r.ingested_at).max().unwrap();
    let mut picked: Vec<Day> = days.into_iter().take(count).collect();
    for (batch, rows) in picked.chunks_mut(count.div_ceil(batches)).enumerate() {
        for row in rows.iter_mut() {
            row.followers = rng.random_range(1_000..5_000_000);
            row.following = rng.random_range(0..5_000);
            row.posts = rng.random_range(0..3_000);
            row.engagement_rate = rng.random_range(0.0..20.0);
            row.avg_likes = rng.random_range(0.0..1e5);
            row.avg_comments = rng.random_range(0.0..1e4);
            row.avg_views = rng.random_range(0.0..1e6);
            row.category = ["fashion", "travel", "food"][rng.random_range(0..3)].to_owned();
            row.ingested_at = newest + Duration::minutes(1 + batch as i64);
        }
    }
    picked.chunks(count.div_ceil(batches)).map(<[Day]>::to_vec).collect()
}

/// One insert per batch.
pub(crate) async fn insert(ch: &clickhouse::Client, batches: &[Vec<Day>]) {
    for rows in batches {
        let mut insert = ch.insert::<Day>("social_profile_time_series").await.unwrap();
        for row in rows {
            insert.write(row).await.unwrap();
        }
        insert.end().await.unwrap();
    }
}

/// The answers computed from `FINAL` rows.
struct Truth<'a>(&'a [Day]);

impl Truth<'_> {
    fn of(&self, platform: i8, profile: u64) -> impl Iterator<Item = &Day> {
        self.0.iter().filter(move |r| r.platform == platform && r.profile_id == profile)
    }

    fn profiles(&self, platform: i8) -> Vec<u64> {
        let mut ids: Vec<u64> = self.0.iter().filter(|r| r.platform == platform).map(|r| r.profile_id).collect();
        ids.dedup();
        ids
    }

    /// (profile, first day's row, last day's row) of each profile reporting in the month.
    fn month(&self, platform: i8, month: NaiveDate) -> Vec<(u64, &Day, &Day)> {
        self.profiles(platform)
            .into_iter()
            .filter_map(|p| {
                let days: Vec<&Day> = self.of(platform, p).filter(|r| month_of(r.date) == month).collect();
                Some((p, *days.first()?, *days.last()?))
            })
            .collect()
    }

    fn monthly_growth(&self, platform: i8) -> Vec<MonthRow> {
        MONTHS
            .iter()
            .map(|m| {
                let rows = self.month(platform, d(m));
                MonthRow {
                    month: d(m),
                    profiles: rows.len() as u64,
                    followers_start: rows.iter().map(|(_, a, _)| a.followers).sum(),
                    followers_end: rows.iter().map(|(_, _, z)| z.followers).sum(),
                }
            })
            .collect()
    }

    /// The month's profiles ranked by `metric` (descending, then by id), as (id, category,
    /// start, end, engagement, views).
    fn top(&self, platform: i8, month: NaiveDate, metric: Metric) -> Vec<(u64, String, u64, u64, f32, f64)> {
        let mut rows: Vec<_> = self
            .month(platform, month)
            .into_iter()
            .map(|(p, a, z)| (p, z.category.clone(), a.followers, z.followers, z.engagement_rate, z.avg_views))
            .collect();
        let key = |r: &(u64, String, u64, u64, f32, f64)| match metric {
            Metric::Followers => r.3 as f64,
            Metric::EngagementRate => f64::from(r.4),
            Metric::Views => r.5,
            Metric::FollowerGrowth => r.3 as f64 - r.2 as f64,
        };
        rows.sort_by(|x, y| key(y).total_cmp(&key(x)).then(x.0.cmp(&y.0)));
        rows
    }

    /// Each bucket's last day, for one profile over `from..=to`.
    fn series(&self, platform: i8, profile: u64, from: NaiveDate, to: NaiveDate, g: Granularity) -> Vec<Point> {
        let mut buckets: BTreeMap<NaiveDate, Point> = BTreeMap::new();
        for r in self.of(platform, profile).filter(|r| r.date >= from && r.date <= to) {
            let bucket = match g {
                Granularity::Day => r.date,
                Granularity::Week => r.date - Duration::days(i64::from(r.date.weekday().num_days_from_monday())),
                Granularity::Month => month_of(r.date),
            }
            .max(from);
            buckets.insert(
                bucket,
                Point {
                    date: bucket,
                    followers: r.followers,
                    following: r.following,
                    posts: r.posts,
                    engagement_rate: r.engagement_rate,
                    avg_likes: r.avg_likes,
                    avg_comments: r.avg_comments,
                    avg_views: r.avg_views,
                },
            );
        }
        buckets.into_values().collect()
    }
}

async fn answers_equal_the_truth(app: &App, stage: &str) {
    let rows = final_series(&app.ch.client).await;
    let truth = Truth(&rows);
    let ctx = RequestContext::new(
        Default::default(),
        app.state.config.clone(),
        coffee::core::postgres::PgSession::new(app.state.pg.clone(), app.state.session_stats.clone()),
        coffee::core::clickhouse::ChSession::new(app.state.ch.clone(), app.state.session_stats.clone()),
    );
    let (from, to) = (d("2026-09-01"), d("2026-10-31"));
    for (platform, code) in PLATFORMS {
        let monthly = ChAnalyticsDao.monthly_growth(&ctx, platform, from, d("2026-10-01")).await.unwrap();
        assert_eq!(monthly, truth.monthly_growth(code), "{stage}: monthly growth of {platform:?}");
        for month in MONTHS.map(d) {
            for metric in [Metric::Followers, Metric::EngagementRate, Metric::Views, Metric::FollowerGrowth] {
                let top = ChAnalyticsDao.top(&ctx, platform, month, metric, None, 100).await.unwrap();
                let top: Vec<_> = top
                    .into_iter()
                    .map(|r| {
                        (r.profile_id, r.category, r.followers_start, r.followers_end, r.engagement_rate, r.avg_views)
                    })
                    .collect();
                assert_eq!(top, truth.top(code, month, metric), "{stage}: {platform:?} {month} by {metric:?}");
            }
        }
        let ids = truth.profiles(code);
        let signed: Vec<i64> = ids.iter().map(|i| *i as i64).collect();
        let growth = ChAnalyticsDao.growth(&ctx, platform, &signed, d("2026-09-10"), d("2026-10-20")).await.unwrap();
        for (row, id) in growth.iter().zip(&ids) {
            let days: Vec<&Day> =
                truth.of(code, *id).filter(|r| r.date >= d("2026-09-10") && r.date <= d("2026-10-20")).collect();
            let (a, z) = (days.first().unwrap(), days.last().unwrap());
            assert_eq!(
                (row.profile_id, row.followers_start, row.followers_end, row.engagement_start, row.engagement_end),
                (*id, a.followers, z.followers, a.engagement_rate, z.engagement_rate),
                "{stage}: growth of {platform:?} {id}"
            );
        }
        assert_eq!(growth.len(), ids.len());
        for id in ids {
            for g in [Granularity::Day, Granularity::Week, Granularity::Month] {
                let series = ChAnalyticsDao.series(&ctx, platform, id as i64, from, to, g).await.unwrap();
                assert_eq!(series, truth.series(code, id, from, to, g), "{stage}: {platform:?} {id} by {g:?}");
            }
        }
    }
}

#[tokio::test]
async fn re_scraped_days_change_every_answer_to_the_newest_values_only() {
    let app = app().await;
    for seed in [1_u64, 2, 3] {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let (count, batches) = (rng.random_range(20..200), rng.random_range(1..6));
        insert(&app.ch.client, &random_reloads(final_series(&app.ch.client).await, &mut rng, count, batches)).await;
        answers_equal_the_truth(&app, &format!("seed {seed}, {count} days in {batches} batches, unmerged")).await;
    }
    for table in ["social_profile_time_series", "profile_monthly_stats"] {
        app.ch.client.query(&format!("OPTIMIZE TABLE {table} FINAL")).execute().await.unwrap();
    }
    answers_equal_the_truth(&app, "merged").await;
    app.stop().await;
}
