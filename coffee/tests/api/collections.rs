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
    // a missing creator is told apart from a missing collection by its problem type
    let (status, body) = app
        .post(SAAS, &format!("/coffee/collections/{id}/items"), json!({"platform": "instagram", "target_id": 999}))
        .await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["type"], coffee::error::TARGET_NOT_FOUND, "{body}");
    let (status, body) =
        app.post(SAAS, "/coffee/collections/999999/items", json!({"platform": "instagram", "target_id": 1})).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["type"], "https://bulbul.dev/problems/not-found", "{body}");
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

/// Whether a request of this app is waiting for a row lock held by another (within 10 s).
async fn a_request_waits_on_a_lock(app: &App) -> bool {
    let waiting =
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";
    testkit::eventually(std::time::Duration::from_secs(10), || async { app.count(waiting).await > 0 }).await
}

/// A delete that arrives while an item add sits between its insert and its bump of the
/// collection's `updated_at` waits for the add, then removes the collection with the item.
#[tokio::test]
async fn a_delete_racing_an_item_add_waits_for_it() {
    let app = app().await;
    let (_, c) = app.post(SAAS, "/coffee/collections", json!({"name": "raced"})).await;
    let id = c["id"].as_i64().unwrap();
    let (path, items) = (format!("/coffee/collections/{id}"), format!("/coffee/collections/{id}/items"));
    let mut paused = app.state.config.hooks.arm("collection.add_item.before_touch");
    let add = app.post(SAAS, &items, json!({"platform": "instagram", "target_id": 1}));
    let delete = async {
        paused.reached().await; // the item is inserted, the bump not yet made
        let release = async {
            assert!(a_request_waits_on_a_lock(&app).await, "the delete waits for the add");
            paused.release();
        };
        tokio::join!(app.delete(SAAS, &path), release).0
    };
    let ((added, item), (deleted, gone)) = tokio::join!(add, delete);
    assert_eq!((added, deleted), (201, 204), "add: {item}; delete: {gone}");
    assert_eq!(app.count(&format!("SELECT count(*) FROM profile_collection WHERE id = {id}")).await, 0);
    assert_eq!(app.count(&format!("SELECT count(*) FROM profile_collection_item WHERE collection_id = {id}")).await, 0);
    app.stop().await;
}

/// A delete of the collection while an item's removal sits between deleting the item and
/// bumping the collection's `updated_at`: the removal locked the item, then the collection; the
/// delete's cascade locked the collection, then the items. In those opposite orders the two
/// deadlocked and Postgres failed one of them (a 500 until deadlocks were answered as such).
/// Now both lock the collection first: the delete waits, and both succeed.
#[tokio::test]
async fn a_delete_racing_an_item_removal_waits_for_it_instead_of_deadlocking() {
    let app = app().await;
    let (_, c) = app.post(SAAS, "/coffee/collections", json!({"name": "emptied"})).await;
    let id = c["id"].as_i64().unwrap();
    let path = format!("/coffee/collections/{id}");
    let (status, item) = app.post(SAAS, &format!("{path}/items"), json!({"platform": "youtube", "target_id": 2})).await;
    assert_eq!(status, 201, "{item}");
    let item_path = format!("{path}/items/{}", item["id"].as_i64().unwrap());
    let mut paused = app.state.config.hooks.arm("collection.remove_item.before_touch");
    let delete = async {
        paused.reached().await; // the item is deleted, the bump not yet made
        let release = async {
            assert!(a_request_waits_on_a_lock(&app).await, "the delete waits for the removal");
            paused.release();
        };
        tokio::join!(app.delete(SAAS, &path), release).0
    };
    let ((removed, a), (deleted, b)) = tokio::join!(app.delete(SAAS, &item_path), delete);
    assert_eq!((removed, deleted), (204, 204), "removal: {a}; delete: {b}");
    assert_eq!(app.count(&format!("SELECT count(*) FROM profile_collection WHERE id = {id}")).await, 0);
    app.stop().await;
}

/// Two deletes of one collection: exactly one removes it (204), the other finds it gone (404),
/// even when the second checks the collection while the first is about to delete it.
#[tokio::test]
async fn of_two_racing_deletes_one_is_a_404() {
    let app = app().await;
    let (_, c) = app.post(SAAS, "/coffee/collections", json!({"name": "deleted twice"})).await;
    let path = format!("/coffee/collections/{}", c["id"].as_i64().unwrap());
    let mut paused = app.state.config.hooks.arm("collection.delete.before_delete");
    let second = async {
        paused.reached().await; // the first delete has found the collection
        let release = async {
            assert!(a_request_waits_on_a_lock(&app).await, "the second delete waits for the first");
            paused.release();
        };
        tokio::join!(app.delete(SAAS, &path), release).0
    };
    let ((first, _), (second, body)) = tokio::join!(app.delete(SAAS, &path), second);
    assert_eq!((first, second), (204, 404), "{body}");
    app.stop().await;
}

/// A change kept waiting on a row lock for most of the query deadline (another transaction
/// holds the collection) is a 503 that says to repeat it, with a short `Retry-After`: not a
/// 500, and not the deadline counted against the database's breaker (after more such answers
/// than the breaker tolerates failures, the same change succeeds once the lock is gone).
#[tokio::test]
async fn a_change_kept_waiting_on_a_lock_is_a_503_to_repeat() {
    let app = app_with(|c| {
        c.pg_query_timeout = std::time::Duration::from_millis(800);
        c.pg_breaker = breaker::Settings { failures: 2, cooldown: std::time::Duration::from_secs(30) };
    })
    .await;
    let (_, c) = app.post(SAAS, "/coffee/collections", json!({"name": "held"})).await;
    let id = c["id"].as_i64().unwrap();
    let path = format!("/coffee/collections/{id}");
    let mut holder = app.pg.pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM profile_collection WHERE id = $1 FOR UPDATE")
        .bind(id)
        .execute(&mut *holder)
        .await
        .unwrap();
    for _ in 0..3 {
        let resp = app.request(SAAS, reqwest::Method::DELETE, &path).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 503);
        assert_eq!(resp.headers()["retry-after"], "1");
        let problem: serde_json::Value = resp.json().await.unwrap();
        assert!(problem["detail"].as_str().unwrap().contains("repeat it"), "{problem}");
    }
    holder.rollback().await.unwrap();
    assert_eq!(app.delete(SAAS, &path).await.0, 204, "the breaker stayed closed");
    app.stop().await;
}
