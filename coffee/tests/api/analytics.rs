//! Time series, growth, compare, monthly growth and leaderboards, checked against the raw
//! generated series; and the same answers from the Postgres baseline DAO.

use crate::support::*;

#[tokio::test]
async fn timeseries_at_each_granularity() {
    let app = app().await;
    let (status, days) = app.get(SAAS, "/coffee/analytics/instagram/2/timeseries?from=2026-10-01&to=2026-10-31").await;
    assert_eq!(status, 200, "{days}");
    let days = days.as_array().unwrap();
    assert_eq!(days.len(), 31);
    assert_eq!(days[0]["date"], "2026-10-01");
    let last_followers = app
        .count("SELECT followers FROM social_profile_time_series WHERE platform = 'instagram' AND profile_id = 2 AND date = '2026-10-31'")
        .await;
    assert_eq!(days[30]["followers"], last_followers);

    let (_, weeks) = app.get(SAAS, "/coffee/analytics/instagram/2/timeseries?from=2026-09-01&to=2026-10-31&granularity=week&metrics=followers,engagement_rate").await;
    let weeks = weeks.as_array().unwrap();
    assert!((9..=10).contains(&weeks.len()), "{weeks:?}");
    assert_eq!(weeks.last().unwrap()["followers"], last_followers, "a bucket shows its last day");
    assert!(weeks[0].get("avg_views").is_none(), "only the requested metrics");
    let (_, months) =
        app.get(SAAS, "/coffee/analytics/instagram/2/timeseries?from=2026-09-01&to=2026-10-31&granularity=month").await;
    assert_eq!(months.as_array().unwrap().len(), 2);
    // a range starting inside a week or a month: its first bucket starts at `from`, not before
    // (2026-09-03 is a Thursday), and the next ones on their Monday or first day
    for (granularity, second) in [("week", "2026-09-07"), ("month", "2026-10-01")] {
        let (status, points) = app
            .get(
                SAAS,
                &format!(
                    "/coffee/analytics/instagram/2/timeseries?from=2026-09-03&to=2026-10-31&granularity={granularity}"
                ),
            )
            .await;
        assert_eq!(status, 200, "{points}");
        assert_eq!(
            (points[0]["date"].as_str(), points[1]["date"].as_str()),
            (Some("2026-09-03"), Some(second)),
            "{granularity}"
        );
    }

    for bad in [
        "from=2026-10-31&to=2026-10-01",
        "from=yesterday&to=2026-10-01",
        "from=2020-01-01&to=2026-10-01",
        "from=2026-10-01&to=2026-10-31&granularity=hour",
        "from=2026-10-01&to=2026-10-31&metrics=password",
        "to=2026-10-31",
    ] {
        let (status, problem) = app.get(SAAS, &format!("/coffee/analytics/instagram/2/timeseries?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {problem}");
    }
    assert_eq!(app.get(SAAS, "/coffee/analytics/instagram/999/timeseries?from=2026-10-01&to=2026-10-31").await.0, 404);
    app.stop().await;
}

#[tokio::test]
async fn growth_compare_and_monthly_growth() {
    let app = app().await;
    let (status, g) = app.get(SAAS, "/coffee/analytics/youtube/3/growth?from=2026-09-01&to=2026-10-31").await;
    assert_eq!(status, 200, "{g}");
    let first = app.count("SELECT followers FROM social_profile_time_series WHERE platform = 'youtube' AND profile_id = 3 AND date = '2026-09-01'").await;
    let last = app.count("SELECT followers FROM social_profile_time_series WHERE platform = 'youtube' AND profile_id = 3 AND date = '2026-10-31'").await;
    assert_eq!((g["followers_start"].as_i64(), g["followers_end"].as_i64()), (Some(first), Some(last)));
    assert_eq!(g["followers_change"], last - first);
    let pct = g["followers_change_pct"].as_f64().unwrap();
    assert!((pct - (last - first) as f64 / first as f64 * 100.0).abs() < 1e-9);

    let (status, cmp) = app.get(SAAS, "/coffee/analytics/youtube/compare?ids=3,1&from=2026-09-01&to=2026-10-31").await;
    assert_eq!(status, 200, "{cmp}");
    let cmp = cmp.as_array().unwrap();
    assert_eq!((cmp[0]["profile"]["id"].as_i64(), cmp[1]["profile"]["id"].as_i64()), (Some(3), Some(1)));
    assert_eq!(cmp[0]["growth"]["followers_end"], last);
    assert_eq!(app.get(SAAS, "/coffee/analytics/youtube/compare?ids=3,999&from=2026-09-01&to=2026-10-31").await.0, 404);
    let (status, body) = app.get(SAAS, "/coffee/analytics/youtube/compare?ids=1,1&from=2026-09-01&to=2026-10-31").await;
    assert_eq!((status, body["detail"].as_str()), (400, Some("ids: each profile id may appear once")));
    assert_eq!(
        app.get(SAAS, "/coffee/analytics/youtube/compare?ids=1,2,3,4,5,6,7,8,9,10,11&from=2026-09-01&to=2026-10-31")
            .await
            .0,
        400
    );

    let (status, months) = app.get(SAAS, "/coffee/analytics/instagram/monthly-growth?from=2026-09&to=2026-10").await;
    assert_eq!(status, 200, "{months}");
    let months = months.as_array().unwrap();
    assert_eq!(months.len(), 2);
    assert_eq!(months[1]["profiles"], 6);
    let oct_end = app
        .count("SELECT sum(followers)::int8 FROM social_profile_time_series WHERE platform = 'instagram' AND date = '2026-10-31'")
        .await;
    assert_eq!(months[1]["followers_end"], oct_end);
    assert_eq!(app.get(SAAS, "/coffee/analytics/instagram/monthly-growth?from=2026-13&to=2026-10").await.0, 400);
    app.stop().await;
}

#[tokio::test]
async fn leaderboards_rank_by_each_metric() {
    let app = app().await;
    let (status, board) =
        app.get(SAAS, "/coffee/leaderboard/instagram?month=2026-10&metric=follower_growth&limit=6").await;
    assert_eq!(status, 200, "{board}");
    let entries = board["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 6);
    assert_eq!(entries[0]["rank"], 1);
    assert!(entries.windows(2).all(|w| w[0]["follower_growth"].as_i64() >= w[1]["follower_growth"].as_i64()));
    let top_growth = app
        .count(
            "SELECT max(g) FROM (SELECT (array_agg(followers ORDER BY date DESC))[1] - (array_agg(followers ORDER BY date))[1] AS g \
             FROM social_profile_time_series WHERE platform = 'instagram' AND date >= '2026-10-01' GROUP BY profile_id) t",
        )
        .await;
    assert_eq!(entries[0]["follower_growth"], top_growth);
    assert!(entries[0]["profile"]["handle"].is_string());

    let (_, by_followers) = app.get(SAAS, "/coffee/leaderboard/instagram?month=2026-10&limit=2").await;
    let top = app.count("SELECT max(followers) FROM social_profile_time_series WHERE platform = 'instagram' AND date = '2026-10-31'").await;
    assert_eq!(by_followers["entries"][0]["followers_end"], top);
    assert_eq!(by_followers["entries"].as_array().unwrap().len(), 2);

    let category: String = sqlx::query_scalar("SELECT category FROM instagram_account ORDER BY id LIMIT 1")
        .fetch_one(&app.pg.pool)
        .await
        .unwrap();
    let (_, in_category) = app
        .get(SAAS, &format!("/coffee/leaderboard/instagram?month=2026-10&metric=engagement_rate&category={category}"))
        .await;
    let rows = in_category["entries"].as_array().unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|e| e["category"] == category.as_str()));
    let (_, empty) = app.get(SAAS, "/coffee/leaderboard/youtube?month=2025-01").await;
    assert_eq!(empty["entries"].as_array().unwrap().len(), 0);
    // premium fields follow the plan here too
    let (_, free) = app.get(FREE, "/coffee/leaderboard/instagram?month=2026-10").await;
    assert!(free["entries"].as_array().unwrap().iter().all(|e| e["profile"]["email"].is_null()));

    for bad in [
        "month=2026-13",
        "month=October",
        "month=2026-10&metric=likes",
        "month=2026-10&limit=0",
        "month=2026-10&limit=1000",
        "month=2026-10&category=Fashion'--",
        "",
    ] {
        assert_eq!(app.get(SAAS, &format!("/coffee/leaderboard/instagram?{bad}")).await.0, 400, "{bad}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_postgres_baseline_dao_answers_like_clickhouse() {
    use coffee::domain::Platform;
    use coffee::modules::analytics::dao::{AnalyticsDao, ChAnalyticsDao, Granularity, Metric, PgAnalyticsDao};
    let app = app().await;
    let ctx = || {
        coffee::core::context::RequestContext::new(
            Default::default(),
            app.state.config.clone(),
            coffee::core::postgres::PgSession::new(app.state.pg.clone(), app.state.session_stats.clone()),
            coffee::core::clickhouse::ChSession::new(app.state.ch.clone(), app.state.session_stats.clone()),
        )
    };
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let (pg, ch) = (ctx(), ctx());
    for g in [Granularity::Day, Granularity::Week, Granularity::Month] {
        let a = PgAnalyticsDao.series(&pg, Platform::Youtube, 4, d("2026-09-03"), d("2026-10-20"), g).await.unwrap();
        let b = ChAnalyticsDao.series(&ch, Platform::Youtube, 4, d("2026-09-03"), d("2026-10-20"), g).await.unwrap();
        assert_eq!(
            a.iter().map(|p| (p.date, p.followers)).collect::<Vec<_>>(),
            b.iter().map(|p| (p.date, p.followers)).collect::<Vec<_>>(),
            "{g:?}"
        );
    }
    let a =
        PgAnalyticsDao.growth(&pg, Platform::Instagram, &[1, 2, 3], d("2026-09-01"), d("2026-10-31")).await.unwrap();
    let b =
        ChAnalyticsDao.growth(&ch, Platform::Instagram, &[1, 2, 3], d("2026-09-01"), d("2026-10-31")).await.unwrap();
    assert_eq!(a, b);
    let a = PgAnalyticsDao.monthly_growth(&pg, Platform::Instagram, d("2026-09-01"), d("2026-10-01")).await.unwrap();
    let b = ChAnalyticsDao.monthly_growth(&ch, Platform::Instagram, d("2026-09-01"), d("2026-10-01")).await.unwrap();
    assert_eq!(a, b);
    let a = PgAnalyticsDao.top(&pg, Platform::Youtube, d("2026-10-01"), Metric::FollowerGrowth, None, 5).await.unwrap();
    let b = ChAnalyticsDao.top(&ch, Platform::Youtube, d("2026-10-01"), Metric::FollowerGrowth, None, 5).await.unwrap();
    assert_eq!(a.iter().map(|r| r.profile_id).collect::<Vec<_>>(), b.iter().map(|r| r.profile_id).collect::<Vec<_>>());
    // each store's session opened only where it was used
    assert!(pg.pg.is_open().await && !pg.ch.is_open());
    assert!(ch.ch.is_open() && !ch.pg.is_open().await);
    pg.rollback().await;
    app.stop().await;
}
