//! Profiles, plan gating, usage tracking and the FREE quota, and bad input, over HTTP.

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn premium_fields_are_null_for_free_plans_only() {
    let app = app().await;
    let id = app.count("SELECT id FROM instagram_account WHERE email IS NOT NULL ORDER BY id LIMIT 1").await;
    let (status, saas) = app.get(SAAS, &format!("/coffee/profiles/instagram/{id}")).await;
    assert_eq!(status, 200, "{saas}");
    assert!(saas["email"].is_string() && saas["audience_demographics"].is_object(), "{saas}");
    let (_, paid) = app.get(PAID, &format!("/coffee/profiles/instagram/{id}")).await;
    assert!(paid["email"].is_string());
    let (status, free) = app.get(FREE, &format!("/coffee/profiles/instagram/{id}")).await;
    assert_eq!(status, 200);
    for premium in ["email", "phone", "contact", "audience_demographics"] {
        assert!(free[premium].is_null(), "{premium} leaked to FREE: {free}");
    }
    assert_eq!(free["handle"], saas["handle"]);

    // search results are gated too
    let (_, page) = app.post(FREE, "/coffee/profiles/instagram/search", json!({"size": 100})).await;
    assert!(page["items"].as_array().unwrap().iter().all(|p| p["email"].is_null()));
    let (_, page) = app.post(SAAS, "/coffee/profiles/instagram/search", json!({"size": 100})).await;
    assert!(page["items"].as_array().unwrap().iter().any(|p| p["email"].is_string()));
    app.stop().await;
}

#[tokio::test]
async fn profiles_by_id_and_handle_and_their_errors() {
    let app = app().await;
    let (status, p) = app.get(SAAS, "/coffee/profiles/youtube/2").await;
    assert_eq!(status, 200, "{p}");
    assert_eq!(p["platform"], "youtube");
    let handle = p["handle"].as_str().unwrap().to_uppercase();
    let (status, by_handle) = app.get(SAAS, &format!("/coffee/profiles/youtube/byhandle/{handle}")).await;
    assert_eq!(status, 200, "{by_handle}");
    assert_eq!(by_handle["id"], 2);

    assert_eq!(app.get(SAAS, "/coffee/profiles/youtube/999999").await.0, 404);
    assert_eq!(app.get(SAAS, "/coffee/profiles/tiktok/1").await.0, 400);
    assert_eq!(app.get(SAAS, "/coffee/profiles/instagram/abc").await.0, 400);
    // one spelling per resource: ids are canonical decimal, anything else is refused with why
    for path in [
        "/coffee/profiles/youtube/+2",
        "/coffee/profiles/youtube/02",
        "/coffee/collections/01",
        "/coffee/analytics/youtube/02/growth?from=2026-01-01&to=2026-01-31",
        "/coffee/analytics/youtube/compare?ids=02,3&from=2026-01-01&to=2026-01-31",
    ] {
        let (status, body) = app.get(SAAS, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["detail"].as_str().unwrap().contains("canonical decimal"), "{path}: {body}");
    }
    let (status, body) = app.delete(SAAS, "/coffee/collections/1/items/+1").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(app.get(SAAS, "/coffee/profiles/instagram/byhandle/nobody.here").await.0, 404);
    let (status, body) = app.get(SAAS, "/coffee/profiles/instagram/byhandle/x'%20OR%201=1--").await;
    assert_eq!(status, 400, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("not a valid instagram handle"));
    assert_eq!(app.count("SELECT count(*) FROM instagram_account").await, 6, "nothing touched");
    app.stop().await;
}

#[tokio::test]
async fn search_filters_sorts_pages_and_rejects_bad_queries() {
    let app = app().await;
    let threshold =
        app.count("SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY followers) FROM instagram_account").await;
    let expected = app.count(&format!("SELECT count(*) FROM instagram_account WHERE followers >= {threshold}")).await;
    let (status, page) = app
        .post(
            SAAS,
            "/coffee/profiles/instagram/search",
            json!({"filters": [{"field": "followers", "op": "gte", "value": threshold}], "sort": {"field": "followers", "direction": "asc"}, "size": 2}),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["total"], expected);
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 2.min(expected as usize));
    assert!(items.windows(2).all(|w| w[0]["followers"].as_i64() <= w[1]["followers"].as_i64()));
    assert!(items.iter().all(|p| p["followers"].as_i64().unwrap() >= threshold));

    let category = sqlx::query_scalar::<_, String>("SELECT category FROM youtube_account ORDER BY id LIMIT 1")
        .fetch_one(&app.pg.pool)
        .await
        .unwrap();
    let (_, page) = app
        .post(
            SAAS,
            "/coffee/profiles/youtube/search",
            json!({"filters": [{"field": "category", "op": "in", "value": [category]}]}),
        )
        .await;
    assert!(page["items"].as_array().unwrap().iter().all(|p| p["category"] == category.as_str()));

    // an injection attempt is just text that matches nothing
    let (status, page) = app
        .post(
            SAAS,
            "/coffee/profiles/instagram/search",
            json!({"filters": [{"field": "text", "op": "contains", "value": "'; DROP TABLE instagram_account; --"}]}),
        )
        .await;
    assert_eq!((status, page["total"].as_u64()), (200, Some(0)), "{page}");
    assert_eq!(app.count("SELECT count(*) FROM instagram_account").await, 6);

    for (body, status) in [
        (json!({"filters": [{"field": "password_hash", "op": "eq", "value": "x"}]}), 400),
        (json!({"filters": [{"field": "followers", "op": "contains", "value": 1}]}), 400),
        (json!({"filters": [{"field": "followers", "op": "gt", "value": "lots"}]}), 400),
        (json!({"size": 100000}), 400),
        (json!({"page": 0}), 400),
        (json!({"filters": [{"field": "followers", "op": "between", "value": 1}]}), 422),
        (json!({"filter": []}), 422),
        (json!({"size": "ten"}), 422),
    ] {
        let (got, problem) = app.post(SAAS, "/coffee/profiles/instagram/search", body.clone()).await;
        assert_eq!(got, status, "{body} -> {problem}");
        assert!(problem["detail"].is_string());
    }
    let (status, _) = app
        .send(
            app.request(SAAS, reqwest::Method::POST, "/coffee/profiles/instagram/search")
                .header("content-type", "application/json")
                .body("{not json"),
        )
        .await;
    assert_eq!(status, 400);
    app.stop().await;
}

#[tokio::test]
async fn views_are_tracked_and_the_free_quota_answers_402_without_writing() {
    let app = app().await; // quota: 3 distinct profiles per month
    for id in [1, 2, 3, 1] {
        let (status, body) = app.get(FREE, &format!("/coffee/profiles/instagram/{id}")).await;
        assert_eq!(status, 200, "{body}");
    }
    let (status, problem) = app.get(FREE, "/coffee/profiles/instagram/4").await;
    assert_eq!(status, 402, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("FREE plan includes 3"));
    // a profile already opened this month stays available
    assert_eq!(app.get(FREE, "/coffee/profiles/instagram/2").await.0, 200);

    let (status, usage) = app.get(FREE, "/coffee/usage").await;
    assert_eq!(status, 200, "{usage}");
    assert_eq!((usage["profile_views"].as_i64(), usage["unique_profiles"].as_i64()), (Some(5), Some(3)));
    assert_eq!((usage["profile_quota"].as_i64(), usage["profiles_remaining"].as_i64()), (Some(3), Some(0)));
    // the refused view left no trace
    assert_eq!(
        app.count("SELECT count(*) FROM partner_profile_page_track WHERE partner_id = 2 AND profile_id = 4").await,
        0
    );
    assert_eq!(app.count("SELECT count(*) FROM activity_tracker WHERE partner_id = 2").await, 5);
    assert_eq!(
        app.count("SELECT view_count::int8 FROM partner_profile_page_track WHERE partner_id = 2 AND profile_id = 1")
            .await,
        2
    );

    // paying plans are unlimited
    for id in 1..=6 {
        assert_eq!(app.get(SAAS, &format!("/coffee/profiles/instagram/{id}")).await.0, 200);
    }
    assert_eq!(app.get(SAAS, "/coffee/profiles/instagram/6").await.0, 200);
    let (_, usage) = app.get(SAAS, "/coffee/usage").await;
    assert!(usage["profile_quota"].is_null());
    assert_eq!((usage["profile_views"].as_i64(), usage["unique_profiles"].as_i64()), (Some(7), Some(6)), "{usage}");
    assert_eq!(app.get(INTERNAL, "/coffee/usage").await.0, 401);
    app.stop().await;
}

#[tokio::test]
async fn malformed_tenant_headers_are_400_problems() {
    let app = app().await;
    for (name, value) in
        [("x-bb-partner-id", "abc"), ("x-bb-plan-type", "GOLD"), ("x-bb-account-id", "-3"), ("authorization", "%%%")]
    {
        let r = app.request(INTERNAL, reqwest::Method::GET, "/coffee/profiles/instagram/1").header(name, value);
        let (status, problem) = app.send(r).await;
        assert_eq!(status, 400, "{name}: {problem}");
        let detail = problem["detail"].as_str().unwrap().to_lowercase();
        assert!(detail.contains(name), "{name}: {detail}");
    }
    app.stop().await;
}

/// Unknown query parameters are refused on every operation alike, naming the parameter and what
/// the operation takes, whether or not its handler reads a query; declared ones pass.
#[tokio::test]
async fn unknown_query_parameters_are_refused_everywhere() {
    let app = app().await;
    for (path, takes) in [
        ("/coffee/usage?mnth=2026-01", "takes none"),
        ("/coffee/profiles/youtube/2?fields=all", "takes none"),
        ("/coffee/collections?pge=2", "page"),
        ("/coffee/leaderboard/instagram?month=2026-01&metric=followers&limt=5", "limit"),
    ] {
        let (status, body) = app.get(SAAS, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("unknown query parameter") && detail.contains(takes), "{path}: {detail}");
    }
    assert_eq!(app.get(SAAS, "/coffee/usage").await.0, 200);
    assert_eq!(app.get(SAAS, "/coffee/collections?page=1").await.0, 200);
    app.stop().await;
}
