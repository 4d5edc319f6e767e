//! Partner API keys end to end: created with a session (the secret shown once, only its hash
//! stored), accepted by the edge in `x-api-key` or as a bearer token with the same data a
//! session sees, refused with the reason, limited by scope, plan and per IP, revoked at every
//! gateway within a second, and never written to a log.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::support::*;

/// Creates a key with `session`; returns (id, secret, the whole answer).
async fn create_key(edge: &Edge, session: &str, name: &str, scope: &str) -> (i64, String, Value) {
    let (status, body) =
        edge.call(Method::POST, "/coffee/api-keys", Some(session), Some(json!({"name": name, "scope": scope}))).await;
    assert_eq!(status, 201, "{body}");
    let secret = body["secret"].as_str().unwrap().to_owned();
    (body["key"]["id"].as_i64().unwrap(), secret, body)
}

/// A GET with the key in `x-api-key`.
async fn get_with_header(edge: &Edge, path: &str, key: &str) -> (u16, Value) {
    let resp = edge.http.get(edge.url(path)).header("x-api-key", key).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_key_is_shown_once_stored_as_a_hash_and_sees_what_its_partners_session_sees() {
    let echo = echo_upstream().await;
    let edge = edge_with(Setup { beat_url: echo.base_url.clone(), ..Setup::default() }).await;
    let session = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let (id, secret, created) = create_key(&edge, &session, "nightly sync", "read_write").await;
    assert!(secret.starts_with("bb_live_") && secret.len() == 46, "{secret}");
    let key = created["key"].clone();
    assert_eq!(key["prefix"], &secret[..12]);
    assert_eq!(key["scope"], "read_write");
    assert_eq!(key["status"], "active");

    // only the hash is stored, and no column holds the secret
    let (hash, row): (String, String) =
        sqlx::query_as("SELECT key_hash, row_to_json(k)::text FROM partner_api_key k WHERE id = $1")
            .bind(id)
            .fetch_one(&edge.pg.pool)
            .await
            .unwrap();
    assert_eq!(hash, tenancy::ApiKey::parse(&secret).unwrap().hash().hex());
    assert!(!row.contains(&secret[12..]), "the secret is not stored: {row}");

    // the list never shows it again
    let (status, list) = edge.call(Method::GET, "/coffee/api-keys", Some(&session), None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("secret").is_none() && !list.to_string().contains(&secret[12..]));

    // the same data as the session, whichever way the key is sent
    let (_, with_session) = edge.call(Method::GET, "/coffee/collections", Some(&session), None).await;
    let (status, with_bearer) = edge.call(Method::GET, "/coffee/collections", Some(&secret), None).await;
    assert_eq!(status, 200, "{with_bearer}");
    assert_eq!(with_bearer, with_session);
    let (status, with_header) = get_with_header(&edge, "/coffee/collections", &secret).await;
    assert_eq!(status, 200);
    assert_eq!(with_header, with_session);

    // what the modules are told: the key's client, type api; the key itself stays at the edge
    let (status, seen) = get_with_header(&edge, "/beat/profiles/instagram/1", &secret).await;
    assert_eq!(status, 200, "{seen}");
    let headers = &seen["headers"];
    assert_eq!(headers["x-bb-client-id"], key["client_id"]);
    assert_eq!(headers["x-bb-client-type"], "api");
    assert!(headers["x-bb-partner-id"].is_string());
    assert!(headers.get("x-api-key").is_none(), "the key was forwarded: {headers}");
    assert!(!seen.to_string().contains(&secret[12..]), "the key reached a module: {seen}");
    // a session cannot pass itself off as a key
    let resp = edge
        .http
        .get(edge.url("/beat/profiles/instagram/1"))
        .bearer_auth(&session)
        .header("x-bb-client-type", "api")
        .send()
        .await
        .unwrap();
    let seen: Value = resp.json().await.unwrap();
    assert!(seen["headers"].get("x-bb-client-type").is_none(), "{seen}");

    // usage is attributed to the key: the view's activity row names its client
    let (status, _) = edge.call(Method::GET, "/coffee/profiles/instagram/1", Some(&secret), None).await;
    assert_eq!(status, 200);
    let attributed = eventually(Duration::from_secs(5), || async {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM activity_tracker WHERE activity_type = 'PROFILE_VIEW' AND metadata->>'api_client_id' = $1",
        )
        .bind(key["client_id"].as_str().unwrap())
        .fetch_one(&edge.pg.pool)
        .await
        .unwrap();
        n == 1
    })
    .await;
    assert!(attributed, "the key's view was attributed to it");

    // its use is reported to the list, without a write per request
    let used = eventually(Duration::from_secs(5), || async {
        let (_, list) = edge.call(Method::GET, "/coffee/api-keys", Some(&session), None).await;
        list[0]["last_used_at"].is_string()
    })
    .await;
    assert!(used, "the key's last use reached the list");
    echo.stop().await;
    edge.stop().await;
}

#[tokio::test]
async fn every_refused_key_is_a_401_that_says_why() {
    let edge = edge().await;
    let session = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let (revoked_id, revoked, _) = create_key(&edge, &session, "old", "read").await;
    let (status, _) = edge.call(Method::DELETE, &format!("/coffee/api-keys/{revoked_id}"), Some(&session), None).await;
    assert_eq!(status, 204);
    let (expired_id, expired, _) = create_key(&edge, &session, "short-lived", "read").await;
    sqlx::query("UPDATE partner_api_key SET expires_at = now() - interval '1 second' WHERE id = $1")
        .bind(expired_id)
        .execute(&edge.pg.pool)
        .await
        .unwrap();
    let (_, live, _) = create_key(&edge, &session, "live", "read").await;
    let mistyped = {
        let at = 20;
        let swapped = if &live[at..=at] == "a" { "b" } else { "a" };
        format!("{}{swapped}{}", &live[..at], &live[at + 1..])
    };
    let unknown = tenancy::ApiKey::generate().expose().to_owned();
    for (key, says) in [
        ("bb_live_short".to_owned(), "malformed"),
        (mistyped, "mistyped"),
        (unknown, "no such API key"),
        (revoked, "revoked"),
        (expired, "expired"),
    ] {
        let resp = edge.http.get(edge.url("/coffee/collections")).bearer_auth(&key).send().await.unwrap();
        assert_eq!(resp.status(), 401, "{says}");
        assert!(resp.headers().get("www-authenticate").is_some());
        let body: Value = resp.json().await.unwrap();
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{says}: {detail}");
        assert!(!detail.contains(&key[8..]), "the key is not echoed: {detail}");
    }
    assert_eq!(edge.call(Method::GET, "/coffee/collections", Some(&live), None).await.0, 200);
    edge.stop().await;
}

#[tokio::test]
async fn scopes_plans_and_who_may_manage_keys_are_enforced() {
    let edge = edge().await;
    let session = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let (_, read, _) = create_key(&edge, &session, "reader", "read").await;
    let (_, write, _) = create_key(&edge, &session, "writer", "read_write").await;

    // a read-only key reads, and is refused a write at the edge, naming the scope it needs
    assert_eq!(edge.call(Method::GET, "/coffee/collections", Some(&read), None).await.0, 200);
    let new = json!({"name": "from a key"});
    let (status, body) = edge.call(Method::POST, "/coffee/collections", Some(&read), Some(new.clone())).await;
    assert_eq!(status, 403, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("read_write"), "{body}");
    let (status, body) = edge.call(Method::POST, "/coffee/collections", Some(&write), Some(new)).await;
    assert_eq!(status, 201, "{body}");

    // keys are managed by people: a key cannot mint or revoke keys
    let (status, body) = edge
        .call(Method::POST, "/coffee/api-keys", Some(&write), Some(json!({"name": "escalate", "scope": "read_write"})))
        .await;
    assert_eq!(status, 403, "{body}");

    // bad input is a clear 422
    let (status, _) =
        edge.call(Method::POST, "/coffee/api-keys", Some(&session), Some(json!({"name": "", "scope": "read"}))).await;
    assert_eq!(status, 422);
    let (status, _) =
        edge.call(Method::POST, "/coffee/api-keys", Some(&session), Some(json!({"name": "x", "scope": "admin"}))).await;
    assert_eq!(status, 422);
    let past = json!({"name": "x", "scope": "read", "expires_at": "2020-01-01T00:00:00Z"});
    assert_eq!(edge.call(Method::POST, "/coffee/api-keys", Some(&session), Some(past)).await.0, 422);

    // a FREE partner may not create keys (402 naming the plan), nor use one it holds
    let free = edge.login(datagen::DEMO_FREE_EMAIL).await;
    let (status, body) =
        edge.call(Method::POST, "/coffee/api-keys", Some(&free), Some(json!({"name": "x", "scope": "read"}))).await;
    assert_eq!(status, 402, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("FREE"), "{body}");
    let held = tenancy::ApiKey::generate();
    sqlx::query(
        "INSERT INTO partner_api_key (partner_id, name, client_id, key_hash, shown, scope) \
         SELECT partner_id, 'from before the downgrade', 'key_free', $1, $2, 'read' FROM users WHERE email = $3",
    )
    .bind(held.hash().hex())
    .bind(held.shown())
    .bind(datagen::DEMO_FREE_EMAIL)
    .execute(&edge.pg.pool)
    .await
    .unwrap();
    let (status, body) = edge.call(Method::GET, "/coffee/collections", Some(held.expose()), None).await;
    assert_eq!(status, 402, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("FREE"), "{body}");
    edge.stop().await;
}

#[tokio::test]
async fn a_revoked_key_is_refused_by_every_gateway_within_a_second_and_rotation_overlaps() {
    let edge = edge().await;
    let peer = edge.peer().await;
    let session = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let (id, old, _) = create_key(&edge, &session, "rotating", "read").await;
    // both gateways hold the key in memory
    assert_eq!(edge.get("/coffee/usage", &old).await, 200);
    assert_eq!(peer.get("/coffee/usage", &old).await, 200);
    assert_eq!(peer.get("/coffee/usage", &old).await, 200);

    // rotation: a new key, the old one still working
    let (status, rotated) =
        edge.call(Method::POST, &format!("/coffee/api-keys/{id}/rotate"), Some(&session), None).await;
    assert_eq!(status, 201, "{rotated}");
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert_eq!(rotated["key"]["rotated_from"], id);
    assert_eq!(rotated["key"]["name"], "rotating");
    assert_eq!(peer.get("/coffee/usage", &new).await, 200);
    assert_eq!(peer.get("/coffee/usage", &old).await, 200);

    // revoked through one gateway, refused by the other within a second
    let (status, body) = edge.call(Method::DELETE, &format!("/coffee/api-keys/{id}"), Some(&session), None).await;
    assert_eq!(status, 204, "{body}");
    assert!(
        eventually(Duration::from_secs(1), || async { peer.get("/coffee/usage", &old).await == 401 }).await,
        "the other gateway refused the revoked key within 1 s"
    );
    assert_eq!(edge.get("/coffee/usage", &old).await, 401);
    assert_eq!(peer.get("/coffee/usage", &new).await, 200, "the replacement still works");

    // a revoked key is never cached again: not by a verify, not in Redis
    let hash = tenancy::ApiKey::parse(&old).unwrap().hash();
    let verdict: Value = edge
        .http
        .post(format!("{}/identity/api-keys/verify", edge.coffee_url))
        .json(&json!({"key": old}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(verdict["status"], "revoked");
    let mut redis = store::redis_cluster::connect(&testkit::redis_cluster_config()).await.unwrap();
    let cached: Option<String> =
        redis::cmd("GET").arg(tenancy::api_key_key(&edge.prefix, &hash)).query_async(&mut redis).await.unwrap();
    assert!(cached.is_none());
    let (status, list) = edge.call(Method::GET, "/coffee/api-keys", Some(&session), None).await;
    assert_eq!(status, 200);
    let statuses: Vec<&str> = list.as_array().unwrap().iter().map(|k| k["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["active", "revoked"], "{list}");
    peer.gateway.stop().await;
    edge.stop().await;
}

#[tokio::test]
async fn a_flood_of_bad_keys_from_one_ip_is_limited_before_any_lookup() {
    let edge =
        edge_with(Setup { env: vec![("RATE_LIMIT_KEY_FAILURES", "key_failures=5/1m".into())], ..Setup::default() })
            .await;
    let session = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let (_, good, _) = create_key(&edge, &session, "good", "read").await;
    assert_eq!(edge.get("/coffee/usage", &good).await, 200);
    let mut statuses = Vec::new();
    for _ in 0..8 {
        let guess = tenancy::ApiKey::generate();
        statuses.push(edge.get("/coffee/usage", guess.expose()).await);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    let resp = edge.http.get(edge.url("/coffee/usage")).bearer_auth("bb_live_garbage").send().await.unwrap();
    assert_eq!(resp.status(), 429);
    assert!(resp.headers().get("retry-after").is_some());
    // a key this gateway already holds is not a lookup: it keeps working
    assert_eq!(edge.get("/coffee/usage", &good).await, 200);
    // sessions are not affected
    assert_eq!(edge.get("/coffee/usage", &session).await, 200);
    edge.stop().await;
}

#[tokio::test]
async fn a_key_never_appears_in_a_log_line_a_metric_or_an_error() {
    let logs = testkit::logs::capture();
    let edge = edge().await;
    let peer = edge.peer().await;
    let session = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let (id, secret, _) = create_key(&edge, &session, "logged?", "read").await;
    // every path a key takes: both headers, a miss to coffee, a Redis hit, a memory hit, a
    // refused write, a revocation, a refusal after it
    assert_eq!(edge.get("/coffee/usage", &secret).await, 200);
    assert_eq!(get_with_header(&edge, "/coffee/usage", &secret).await.0, 200);
    assert_eq!(peer.get("/coffee/usage", &secret).await, 200);
    assert_eq!(edge.call(Method::POST, "/coffee/collections", Some(&secret), Some(json!({"name": "n"}))).await.0, 403);
    assert_eq!(edge.call(Method::DELETE, &format!("/coffee/api-keys/{id}"), Some(&session), None).await.0, 204);
    assert!(eventually(Duration::from_secs(1), || async { peer.get("/coffee/usage", &secret).await == 401 }).await);
    let metrics = edge.metrics().await;
    let coffee_metrics = reqwest::get(format!("{}/metrics", edge.coffee_url)).await.unwrap().text().await.unwrap();
    peer.gateway.stop().await;
    edge.stop().await;

    let text = logs.text();
    assert!(text.lines().count() > 20, "the capture saw the run: {} lines", text.lines().count());
    let secret_part = &secret[12..];
    assert!(!text.contains(secret_part), "a log line holds the key");
    assert!(!metrics.contains(secret_part) && !coffee_metrics.contains(secret_part), "a metric holds the key");
}

#[tokio::test]
async fn a_key_held_in_memory_stops_at_its_expiry_at_every_gateway() {
    let edge = edge().await;
    let peer = edge.peer().await;
    let session = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let expires_at = chrono::Utc::now() + chrono::Duration::milliseconds(2500);
    let (status, created) = edge
        .call(
            Method::POST,
            "/coffee/api-keys",
            Some(&session),
            Some(json!({"name": "brief", "scope": "read", "expires_at": expires_at.to_rfc3339()})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let secret = created["secret"].as_str().unwrap().to_owned();
    // both gateways hold it in memory (for SESSION_CACHE_TTL, far longer than its life)
    assert_eq!(edge.get("/coffee/usage", &secret).await, 200);
    assert_eq!(peer.get("/coffee/usage", &secret).await, 200);
    let wait = (expires_at - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(wait + Duration::from_millis(100)).await;
    for status in [edge.get("/coffee/usage", &secret).await, peer.get("/coffee/usage", &secret).await] {
        assert_eq!(status, 401, "expired keys are refused without waiting for any cache");
    }
    let (_, body) = edge.call(Method::GET, "/coffee/usage", Some(&secret), None).await;
    assert!(body["detail"].as_str().unwrap().contains("expired"), "{body}");
    peer.gateway.stop().await;
    edge.stop().await;
}
