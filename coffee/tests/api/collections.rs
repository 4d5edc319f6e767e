//! Profile and post collections: CRUD, items, tenancy (404 across partners), bad input.

use crate::support::*;
use serde_json::json;

#[tokio::test]
async fn collection_lifecycle_with_items() {
    let app = app().await;
    let (status, c) =
        app.post(SAAS, "/coffee/collections", json!({"name": "  Summer launch ", "description": "fashion"})).await;
    assert_eq!(status, 201, "{c}");
    assert_eq!(c["name"], "Summer launch");
    assert!(c.get("partner_id").is_none(), "internal ids stay internal: {c}");
    let id = c["id"].as_i64().unwrap();

    let (status, dup) = app.post(SAAS, "/coffee/collections", json!({"name": "SUMMER LAUNCH"})).await;
    assert_eq!(status, 409, "{dup}");
    // another partner may use the same name
    assert_eq!(app.post(PAID, "/coffee/collections", json!({"name": "Summer launch"})).await.0, 201);

    let (status, item) = app
        .post(
            SAAS,
            &format!("/coffee/collections/{id}/items"),
            json!({"platform": "youtube", "target_id": 3, "note": "tall"}),
        )
        .await;
    assert_eq!(status, 201, "{item}");
    assert_eq!(
        app.post(SAAS, &format!("/coffee/collections/{id}/items"), json!({"platform": "youtube", "target_id": 3}))
            .await
            .0,
        409
    );
    assert_eq!(
        app.post(SAAS, &format!("/coffee/collections/{id}/items"), json!({"platform": "instagram", "target_id": 999}))
            .await
            .0,
        404
    );
    assert_eq!(
        app.post(SAAS, &format!("/coffee/collections/{id}/items"), json!({"platform": "instagram", "target_id": 1}))
            .await
            .0,
        201
    );

    let (status, detail) = app.get(SAAS, &format!("/coffee/collections/{id}")).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["item_count"], 2);
    assert_eq!(detail["items"].as_array().unwrap().len(), 2);
    assert_eq!(detail["items"][0]["target_id"], 3);

    let (status, renamed) = app.patch(SAAS, &format!("/coffee/collections/{id}"), json!({"name": "Autumn"})).await;
    assert_eq!((status, renamed["name"].as_str()), (200, Some("Autumn")));
    let (_, list) = app.get(SAAS, "/coffee/collections?size=1").await;
    assert_eq!(list["total"], 2, "the generated collection and ours: {list}");
    assert_eq!(list["items"][0]["name"], "Autumn", "most recently changed first");

    let item_id = item["id"].as_i64().unwrap();
    assert_eq!(app.delete(SAAS, &format!("/coffee/collections/{id}/items/{item_id}")).await.0, 204);
    assert_eq!(app.delete(SAAS, &format!("/coffee/collections/{id}/items/{item_id}")).await.0, 404);
    assert_eq!(app.delete(SAAS, &format!("/coffee/collections/{id}")).await.0, 204);
    assert_eq!(app.get(SAAS, &format!("/coffee/collections/{id}")).await.0, 404);
    assert_eq!(app.count(&format!("SELECT count(*) FROM profile_collection_item WHERE collection_id = {id}")).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn another_partners_collection_is_not_found_and_untouched() {
    let app = app().await;
    let (_, c) = app.post(SAAS, "/coffee/collections", json!({"name": "Private"})).await;
    let id = c["id"].as_i64().unwrap();
    assert_eq!(app.get(PAID, &format!("/coffee/collections/{id}")).await.0, 404);
    assert_eq!(app.patch(PAID, &format!("/coffee/collections/{id}"), json!({"name": "Mine now"})).await.0, 404);
    assert_eq!(
        app.post(PAID, &format!("/coffee/collections/{id}/items"), json!({"platform": "instagram", "target_id": 1}))
            .await
            .0,
        404
    );
    assert_eq!(app.delete(PAID, &format!("/coffee/collections/{id}")).await.0, 404);
    // same answer as for an id that does not exist at all
    let (_, missing) = app.get(PAID, "/coffee/collections/987654").await;
    let (_, foreign) = app.get(PAID, &format!("/coffee/collections/{id}")).await;
    assert_eq!(missing["title"], foreign["title"]);
    let (_, mine) = app.get(SAAS, &format!("/coffee/collections/{id}")).await;
    assert_eq!((mine["name"].as_str(), mine["item_count"].as_i64()), (Some("Private"), Some(0)));
    // lists never show other partners' collections
    let (_, list) = app.get(PAID, "/coffee/collections").await;
    assert!(list["items"].as_array().unwrap().iter().all(|c| c["name"] != "Private"));
    // and a caller without a partner is told why
    let (status, problem) = app.get(INTERNAL, "/coffee/collections").await;
    assert_eq!(status, 401);
    assert!(problem["detail"].as_str().unwrap().contains("x-bb-partner-id"));
    app.stop().await;
}

#[tokio::test]
async fn bad_collection_input_is_rejected_without_writing() {
    let app = app().await;
    let before = app.count("SELECT count(*) FROM profile_collection").await;
    for (body, status) in [
        (json!({"name": ""}), 422),
        (json!({"name": "   "}), 422),
        (json!({"name": "x".repeat(201)}), 422),
        (json!({"name": "ok", "description": "d".repeat(2001)}), 422),
        (json!({"name": 42}), 422),
        (json!({"name": "ok", "owner": 7}), 422),
        (json!({}), 422),
        // text Postgres cannot store (found by contract fuzzing: was a 500)
        (json!({"name": "nul\u{0}byte"}), 422),
        (json!({"name": "ok", "description": "nul\u{0}byte"}), 422),
    ] {
        let (got, problem) = app.post(SAAS, "/coffee/collections", body.clone()).await;
        assert_eq!(got, status, "{body} -> {problem}");
    }
    let (got, problem) = app.post(SAAS, "/coffee/post-collections", json!({"name": "nul\u{0}byte"})).await;
    assert_eq!(got, 422, "{problem}");
    let (status, _) = app
        .send(
            app.request(SAAS, reqwest::Method::POST, "/coffee/collections")
                .header("content-type", "application/json")
                .body("{\"name\":"),
        )
        .await;
    assert_eq!(status, 400);
    let (status, _) = app.send(app.request(SAAS, reqwest::Method::POST, "/coffee/collections").body("name=x")).await;
    assert_eq!(status, 415);
    assert_eq!(app.count("SELECT count(*) FROM profile_collection").await, before);

    let (_, c) = app.post(SAAS, "/coffee/collections", json!({"name": "Valid"})).await;
    let id = c["id"].as_i64().unwrap();
    assert_eq!(app.patch(SAAS, &format!("/coffee/collections/{id}"), json!({})).await.0, 422);
    // a sent field carries a value; null is not "unchanged"
    let (status, problem) = app.patch(SAAS, &format!("/coffee/collections/{id}"), json!({"name": null})).await;
    assert_eq!(status, 422, "{problem}");
    // JSON has one number type: 2.0 is the id 2, 2.5 is no id
    let (status, problem) = app
        .post(SAAS, &format!("/coffee/collections/{id}/items"), json!({"platform": "instagram", "target_id": 2.0}))
        .await;
    assert_eq!(status, 201, "{problem}");
    let (status, problem) = app
        .post(SAAS, &format!("/coffee/collections/{id}/items"), json!({"platform": "instagram", "target_id": 2.5}))
        .await;
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        app.post(SAAS, &format!("/coffee/collections/{id}/items"), json!({"platform": "tiktok", "target_id": 1}))
            .await
            .0,
        422
    );
    assert_eq!(
        app.post(SAAS, &format!("/coffee/collections/{id}/items"), json!({"platform": "instagram", "target_id": -1}))
            .await
            .0,
        422
    );
    assert_eq!(app.get(SAAS, "/coffee/collections/not-a-number").await.0, 400);
    assert_eq!(app.get(SAAS, "/coffee/collections?size=1000").await.0, 400);
    app.stop().await;
}

#[tokio::test]
async fn post_collections_and_their_metrics_summary() {
    let app = app().await;
    let (status, c) = app.post(SAAS, "/coffee/post-collections", json!({"name": "Launch posts"})).await;
    assert_eq!(status, 201, "{c}");
    let id = c["id"].as_i64().unwrap();
    for (platform, post) in [("instagram", 1), ("instagram", 2), ("youtube", 1)] {
        let (status, body) = app
            .post(
                SAAS,
                &format!("/coffee/post-collections/{id}/items"),
                json!({"platform": platform, "target_id": post}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    assert_eq!(
        app.post(
            SAAS,
            &format!("/coffee/post-collections/{id}/items"),
            json!({"platform": "youtube", "target_id": 99999})
        )
        .await
        .0,
        404
    );
    let (status, summary) = app.get(SAAS, &format!("/coffee/post-collections/{id}/summary")).await;
    assert_eq!(status, 200, "{summary}");
    let likes = app
        .count("SELECT ((SELECT sum(likes) FROM instagram_post WHERE id IN (1, 2)) + (SELECT likes FROM youtube_video WHERE id = 1))::int8")
        .await;
    assert_eq!(summary["total_posts"], 3);
    assert_eq!(summary["total_likes"], likes);
    assert!(summary["avg_engagement_rate"].as_f64().unwrap() > 0.0);
    // reading computes; it stores nothing
    let stored = format!("SELECT count(*) FROM collection_post_metrics_summary WHERE post_collection_id = {id}");
    assert_eq!(app.count(&stored).await, 0, "a GET writes nothing");
    // a POST recomputes and stores the same figures
    let (status, refreshed) = app.post(SAAS, &format!("/coffee/post-collections/{id}/summary"), json!(null)).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!((refreshed["total_posts"].clone(), refreshed["total_likes"].clone()), (json!(3), json!(likes)));
    assert_eq!(
        app.count(&format!(
            "SELECT total_posts::int8 FROM collection_post_metrics_summary WHERE post_collection_id = {id}"
        ))
        .await,
        3
    );
    assert_eq!(app.post(PAID, &format!("/coffee/post-collections/{id}/summary"), json!(null)).await.0, 404);
    assert_eq!(app.get(PAID, &format!("/coffee/post-collections/{id}/summary")).await.0, 404);
    app.stop().await;
}
