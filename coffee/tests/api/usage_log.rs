//! The group-committed usage log: concurrent views and searches of unlimited plans are all
//! counted, exactly, with their page tracks and activity rows; events of unknown partners or
//! users do not spoil a batch.

use crate::support::*;
use futures::future::join_all;
use serde_json::json;

#[tokio::test]
async fn concurrent_views_and_searches_are_all_counted() {
    let app = app().await;
    const VIEWS: usize = 240;
    let views = (0..VIEWS).map(|i| {
        let app = &app;
        async move {
            let who = if i % 2 == 0 { SAAS } else { PAID };
            app.get(who, &format!("/coffee/profiles/instagram/{}", i / 2 % 6 + 1)).await
        }
    });
    let searches = (0..30).map(|_| {
        let app = &app;
        async move { app.post(SAAS, "/coffee/profiles/youtube/search", json!({"size": 2})).await }
    });
    let (views, searches) = futures::join!(join_all(views), join_all(searches));
    for (status, body) in views.iter().chain(searches.iter()) {
        assert_eq!(*status, 200, "{body}");
    }

    for partner in [SAAS_PARTNER, PAID_PARTNER] {
        let row: (i32, i32) = sqlx::query_as(
            "SELECT profile_views, unique_profiles FROM partner_usage WHERE partner_id = $1 AND month = date_trunc('month', now())::date",
        )
        .bind(partner)
        .fetch_one(&app.pg.pool)
        .await
        .unwrap();
        assert_eq!(row, (VIEWS as i32 / 2, 6), "partner {partner}");
        let tracked: i64 =
            sqlx::query_scalar("SELECT sum(view_count)::int8 FROM partner_profile_page_track WHERE partner_id = $1")
                .bind(partner)
                .fetch_one(&app.pg.pool)
                .await
                .unwrap();
        assert_eq!(tracked, VIEWS as i64 / 2);
        let pages: i64 = sqlx::query_scalar("SELECT count(*) FROM partner_profile_page_track WHERE partner_id = $1")
            .bind(partner)
            .fetch_one(&app.pg.pool)
            .await
            .unwrap();
        assert_eq!(pages, 6);
        let activity: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM activity_tracker WHERE partner_id = $1 AND activity_type = 'PROFILE_VIEW'",
        )
        .bind(partner)
        .fetch_one(&app.pg.pool)
        .await
        .unwrap();
        assert_eq!(activity, VIEWS as i64 / 2);
    }
    let (_, usage) = app.get(SAAS, "/coffee/usage").await;
    assert_eq!(usage["searches"].as_i64(), Some(30), "{usage}");
    // the events shared statements: fewer batches were written than events
    let metrics = reqwest::get(format!("{}/metrics", app.base)).await.unwrap().text().await.unwrap();
    let batches: u64 = metrics
        .lines()
        .find(|l| l.starts_with("coffee_usage_log_batch_events_count"))
        .and_then(|l| l.rsplit(' ').next())
        .unwrap_or_else(|| panic!("the batch histogram is not exported: {metrics}"))
        .trim()
        .parse()
        .unwrap();
    assert!(batches >= 1 && batches < (VIEWS + 30) as u64, "{batches} batches for {} events", VIEWS + 30);
    // first and last view times bracket the views
    let bad: i64 =
        app.count("SELECT count(*) FROM partner_profile_page_track WHERE first_viewed_at > last_viewed_at").await;
    assert_eq!(bad, 0);
    app.stop().await;
}

fn with_user(r: reqwest::RequestBuilder, user_id: i64) -> reqwest::RequestBuilder {
    let auth = tenancy::DownstreamAuth {
        user_id: Some(user_id),
        user_name: Some("someone".into()),
        is_logged_in: true,
        account_id: Some(user_id),
        password: String::new(),
    };
    r.header("authorization", auth.encode())
}

#[tokio::test]
async fn unknown_partners_are_refused_and_unknown_users_recorded_without_spoiling_the_batch() {
    let app = app().await;
    let ghost_partner = As { partner: Some(999), plan: "SAAS" };
    let calls = (0..90).map(|i| {
        let app = &app;
        async move {
            let path = format!("/coffee/profiles/youtube/{}", i % 6 + 1);
            let r = match i % 3 {
                0 => app.request(ghost_partner, reqwest::Method::GET, &path),
                1 => with_user(app.request(SAAS, reqwest::Method::GET, &path), 999),
                _ => with_user(app.request(SAAS, reqwest::Method::GET, &path), 1),
            };
            (i % 3, app.send(r).await)
        }
    });
    for (kind, (status, body)) in join_all(calls).await {
        if kind == 0 {
            assert_eq!(status, 422, "{body}");
            assert!(body["detail"].as_str().unwrap().contains("partner 999 does not exist"), "{body}");
        } else {
            assert_eq!(status, 200, "{body}");
        }
    }
    assert_eq!(app.count("SELECT count(*) FROM activity_tracker WHERE partner_id = 1 AND user_id IS NULL").await, 30);
    assert_eq!(app.count("SELECT count(*) FROM activity_tracker WHERE partner_id = 1 AND user_id = 1").await, 30);
    assert_eq!(app.count("SELECT count(*) FROM activity_tracker WHERE partner_id = 999").await, 0);
    assert_eq!(app.count("SELECT count(*) FROM partner_usage WHERE partner_id = 999").await, 0);
    assert_eq!(app.count("SELECT profile_views::int8 FROM partner_usage WHERE partner_id = 1").await, 60);
    app.stop().await;
}

#[tokio::test]
async fn shutdown_writes_the_events_of_cancelled_requests() {
    let app = app().await;
    let pool = store::pg::GuardedPool::new(
        store::pg::pool(&app.pg.config, std::time::Duration::from_secs(1)),
        std::time::Duration::from_secs(10),
        breaker::Breaker::new("test_breaker_open", "postgres_usage_log", Default::default()),
    );
    let log = coffee::modules::usage::log::UsageLog::start(pool, std::time::Duration::from_secs(1));
    const EVENTS: i64 = 50;
    for i in 0..EVENTS {
        let event = coffee::modules::usage::log::UsageEvent::ProfileView {
            partner_id: PAID_PARTNER,
            user_id: None,
            api_client: None,
            platform: coffee::domain::Platform::Youtube,
            profile_id: i % 5 + 1,
            at: chrono::Utc::now(),
        };
        // a request that queued its view and was then cancelled (client gone, deadline)
        let mut request = Box::pin(log.record(event));
        if let std::task::Poll::Ready(result) = futures::poll!(&mut request) {
            result.expect("written at once");
        }
    }
    log.shutdown().await;
    assert_eq!(log.queued(), 0);
    assert_eq!(
        app.count("SELECT count(*) FROM activity_tracker WHERE partner_id = 3 AND platform = 'youtube'").await,
        EVENTS
    );
    assert_eq!(app.count("SELECT profile_views::int8 FROM partner_usage WHERE partner_id = 3").await, EVENTS);
    // after shutdown, nothing more is taken
    let late = coffee::modules::usage::log::UsageEvent::Search {
        partner_id: PAID_PARTNER,
        user_id: None,
        at: chrono::Utc::now(),
    };
    assert!(log.record(late).await.is_err());
    app.stop().await;
}
