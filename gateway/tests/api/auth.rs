//! Authentication at the edge: a login opens the modules with the partner and plan injected
//! (and signed, since coffee requires it here), spoofed tenant headers are stripped, each token
//! failure is its own 401, each session tier answers in turn, and logout works from a browser.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

#[tokio::test]
async fn a_login_opens_the_modules_with_the_partner_and_plan_injected() {
    let edge = edge().await;
    let saas = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let free = edge.login(datagen::DEMO_FREE_EMAIL).await;

    // coffee sees the partner and plan the gateway resolved, not what the client claims
    let spoofed = edge
        .http
        .get(edge.url("/coffee/usage"))
        .bearer_auth(&free)
        .header("x-bb-partner-id", "1")
        .header("x-bb-plan-type", "SAAS")
        .header("x-bb-signature", "t=1,v1=forged")
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), StatusCode::OK);
    let usage: Value = spoofed.json().await.unwrap();
    assert_eq!((usage["plan"].as_str(), usage["profile_quota"].as_i64()), (Some("FREE"), Some(3)), "{usage}");

    let (status, usage) = edge.call(Method::GET, "/coffee/usage", Some(&saas), None).await;
    assert_eq!(status, 200, "{usage}");
    assert_eq!(usage["plan"], "SAAS");
    assert!(usage["profile_quota"].is_null());

    // premium fields follow the plan; the view is counted against the session's partner
    let (_, profile) = edge.call(Method::GET, "/coffee/profiles/instagram/1", Some(&free), None).await;
    assert!(profile["email"].is_null(), "{profile}");
    assert_eq!(edge.get("/coffee/profiles/instagram/1", &saas).await, 200);
    let (_, usage) = edge.call(Method::GET, "/coffee/usage", Some(&saas), None).await;
    assert_eq!(usage["profile_views"], 1, "{usage}");

    // writes go through too, with the body
    let (status, created) =
        edge.call(Method::POST, "/coffee/collections", Some(&saas), Some(json!({"name": "Via the gateway"}))).await;
    assert_eq!(status, 201, "{created}");
    let (_, mine) = edge.call(Method::GET, "/coffee/collections", Some(&saas), None).await;
    assert!(mine.to_string().contains("Via the gateway"));
    let (_, theirs) = edge.call(Method::GET, "/coffee/collections", Some(&free), None).await;
    assert!(!theirs.to_string().contains("Via the gateway"), "tenancy holds through the gateway");

    // coffee reached directly: a partner header without the gateway's signature is refused
    let direct = edge.http.get(format!("{}/coffee/usage", edge.coffee_url)).header("x-bb-partner-id", "1");
    assert_eq!(direct.send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    edge.stop().await;
}

fn sign(key: &[u8], claims: Value) -> String {
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(key))
        .unwrap()
}

#[tokio::test]
async fn each_token_failure_is_its_own_401_with_a_bearer_challenge() {
    let edge = edge().await;
    let key = platform::config::decode_hmac_key(HMAC_SECRET).unwrap();
    let now = chrono::Utc::now().timestamp();
    let sid = "00000000-0000-4000-8000-000000000001";
    let claims =
        |sid: &str, nbf: i64, exp: i64, iss: &str| json!({"sid": sid, "nbf": nbf, "exp": exp, "iss": iss, "pid": 1});
    let iss = tenancy::DEFAULT_ISSUER;
    let cases = [
        (None, "log in first"),
        (Some("not-a-jwt".to_owned()), "malformed"),
        (Some(sign(b"someone-elses-key-someone-elses-key", claims(sid, now, now + 3600, iss))), "signature"),
        (Some(sign(&key, claims(sid, now - 7200, now - 3600, iss))), "expired"),
        (Some(sign(&key, claims(sid, now + 3600, now + 7200, iss))), "not valid yet"),
        (Some(sign(&key, claims(sid, now, now + 3600, "someone-else"))), "malformed"),
        (Some(sign(&key, claims("", now, now + 3600, iss))), "malformed"),
        (Some(sign(&key, claims(sid, now, now + 3600, iss))), "session has ended"),
    ];
    for (token, why) in cases {
        let mut request = edge.http.get(edge.url("/coffee/usage"));
        if let Some(t) = &token {
            request = request.bearer_auth(t);
        }
        let resp = request.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{why}");
        assert_eq!(resp.headers()["content-type"], "application/problem+json", "{why}");
        let challenge = resp.headers()["www-authenticate"].to_str().unwrap().to_owned();
        assert!(challenge.starts_with("Bearer"), "{why}: {challenge}");
        let body: Value = resp.json().await.unwrap();
        assert!(body["detail"].as_str().unwrap().contains(why), "{why}: {body}");
    }
    edge.stop().await;
}

#[tokio::test]
async fn each_tier_answers_in_turn() {
    use gateway::session::Tier;
    let edge = edge().await;
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let sid = edge.sid(&token).await;
    let sessions = &edge.state.sessions;

    // first use: Redis has the session coffee cached at login; then memory
    assert_eq!(sessions.resolve(&sid, &token).await.unwrap().1, Tier::Redis);
    assert_eq!(sessions.resolve(&sid, &token).await.unwrap().1, Tier::Memory);

    // without the memory and Redis entries, identity (Postgres) still knows, and re-warms Redis
    sessions.forget_all();
    let mut redis = store::redis_cluster::connect(&testkit::redis_cluster_config()).await.unwrap();
    let key = tenancy::session_key(&edge.prefix, &sid);
    let _: () = redis::AsyncCommands::del(&mut redis, &key).await.unwrap();
    assert_eq!(sessions.resolve(&sid, &token).await.unwrap().1, Tier::Identity);
    let rewarmed: bool = redis::AsyncCommands::exists(&mut redis, &key).await.unwrap();
    assert!(rewarmed, "identity re-cached the session in Redis");
    assert_eq!(edge.get("/coffee/usage", &token).await, 200);
    edge.stop().await;
}

/// A copy held in memory longer than `SESSION_CACHE_TTL` is not served: Redis is asked again.
#[tokio::test]
async fn a_session_held_longer_than_the_ttl_is_asked_for_again() {
    use gateway::session::Tier;
    let edge = edge_with(Setup { env: vec![("SESSION_CACHE_TTL", "1".into())], ..Setup::default() }).await;
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let sid = edge.sid(&token).await;
    let sessions = &edge.state.sessions;
    assert_eq!(sessions.resolve(&sid, &token).await.unwrap().1, Tier::Redis);
    assert_eq!(sessions.resolve(&sid, &token).await.unwrap().1, Tier::Memory);
    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    assert_eq!(sessions.resolve(&sid, &token).await.unwrap().1, Tier::Redis, "stale in memory");
    assert_eq!(sessions.resolve(&sid, &token).await.unwrap().1, Tier::Memory);
    edge.stop().await;
}

/// A browser logs out with its `Authorization: Bearer` header and no body.
#[tokio::test]
async fn logout_with_only_the_bearer_header_ends_the_session() {
    let edge = edge().await;
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    assert_eq!(edge.get("/coffee/usage", &token).await, 200);
    let resp = edge.http.post(edge.url("/identity/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert!(
        eventually(std::time::Duration::from_secs(2), || async { edge.get("/coffee/usage", &token).await == 401 })
            .await
    );
    // a logout without any token is still identity's 4xx, not a crash
    let resp = edge.http.post(edge.url("/identity/logout")).send().await.unwrap();
    assert!(resp.status().is_client_error(), "{}", resp.status());
    edge.stop().await;
}

/// `/beat/profiles/…` reaches beat as `/profiles/…` (beat serves its callers' paths at its root),
/// with the caller's tenant injected and signed; without a session it does not reach beat at
/// all; beat's task queue is not routed by the edge, with a session or without.
#[tokio::test]
async fn beat_is_routed_under_its_module_prefix() {
    let beat = echo_upstream().await;
    let edge = edge_with(Setup { beat_url: beat.base_url.clone(), ..Setup::default() }).await;
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let (status, body) =
        edge.call(Method::GET, "/beat/profiles/instagram/byhandle/nasa?full_refresh=true", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["path"], "/profiles/instagram/byhandle/nasa?full_refresh=true");
    let headers = &body["headers"];
    assert!(!headers["x-bb-partner-id"].as_str().unwrap().is_empty(), "{body}");
    // the signature vouches for what beat received
    let mut received = axum::http::HeaderMap::new();
    for (k, v) in headers.as_object().unwrap() {
        received
            .insert(axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.as_str().unwrap().parse().unwrap());
    }
    let key = coffee::testing::tenant_signing_key();
    let now = chrono::Utc::now().timestamp();
    assert_eq!(key.verify(now, &Method::GET, "/profiles/instagram/byhandle/nasa?full_refresh=true", &received), Ok(()));
    let (status, _) = edge.call(Method::GET, "/beat/profiles/instagram/byhandle/nasa", None, None).await;
    assert_eq!(status, 401);
    for (method, path) in
        [(Method::GET, "/beat/tasks"), (Method::POST, "/beat/tasks/bulk"), (Method::GET, "/beat/openapi.json")]
    {
        for token in [Some(token.as_str()), None] {
            let (status, body) = edge.call(method.clone(), path, token, Some(json!({}))).await;
            assert_eq!(status, 404, "{method} {path}: {body}");
        }
    }
    edge.stop().await;
    beat.stop().await;
}
