//! Login, verify and logout: Postgres session, Redis `session:{<sid>}` written after commit,
//! a tombstone and an invalidation on logout, revocations that no late write can undo, logouts
//! that Redis missed propagated later; signed tenant headers; and partners with their plans.

use crate::support::*;
use redis::AsyncCommands;
use serde_json::json;

#[tokio::test]
async fn login_verify_logout_round_trip() {
    let app = app().await;
    let (status, bad) =
        app.post(INTERNAL, "/identity/login", json!({"email": datagen::DEMO_SAAS_EMAIL, "password": "wrong"})).await;
    assert_eq!(status, 401, "{bad}");
    let (status, unknown) =
        app.post(INTERNAL, "/identity/login", json!({"email": "nobody@example.com", "password": "x"})).await;
    assert_eq!((status, &unknown["detail"]), (401, &bad["detail"]), "unknown emails look like wrong passwords");
    assert_eq!(app.post(INTERNAL, "/identity/login", json!({"email": "x"})).await.0, 422);

    let (status, login) = app
        .post(INTERNAL, "/identity/login", json!({"email": "DEMO@bulbul.dev", "password": datagen::DEMO_PASSWORD}))
        .await;
    assert_eq!(status, 200, "{login}");
    let token = login["token"].as_str().unwrap().to_owned();
    let sid = login["session"]["sid"].as_str().unwrap().to_owned();
    assert_eq!(login["session"]["partner_id"], SAAS_PARTNER);

    let claims: serde_json::Value = {
        use base64::Engine;
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    };
    assert_eq!((claims["sid"].as_str(), claims["pid"].as_i64()), (Some(sid.as_str()), Some(SAAS_PARTNER)));
    assert!(claims["exp"].as_i64().unwrap() > claims["iat"].as_i64().unwrap());
    assert_eq!(
        (claims["iss"].as_str(), claims["nbf"].as_i64()),
        (Some(tenancy::DEFAULT_ISSUER), claims["iat"].as_i64())
    );

    let mut redis = store::redis_cluster::connect(&testkit::redis_cluster_config()).await.unwrap();
    let key = format!("{}session:{{{sid}}}", app.prefix);
    let cached: Option<String> = redis.get(&key).await.unwrap();
    let cached: serde_json::Value = serde_json::from_str(&cached.expect("session cached in redis")).unwrap();
    assert_eq!(cached["user_id"], login["session"]["user_id"]);
    let ttl: i64 = redis.ttl(&key).await.unwrap();
    assert!((3500..=3600).contains(&ttl), "ttl {ttl} should follow the token's lifetime");
    assert_eq!(
        app.count(&format!("SELECT count(*) FROM user_session WHERE id = '{sid}' AND revoked_at IS NULL")).await,
        1
    );

    let (status, verified) = app.post(INTERNAL, "/identity/verify", json!({"token": token})).await;
    assert_eq!((status, verified["sid"].as_str()), (200, Some(sid.as_str())), "{verified}");

    // watch the invalidation channel while logging out
    let client = redis::Client::open(format!("redis://{}", testkit::redis_cluster_config().addresses[0])).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub.subscribe(format!("{}session-invalidation", app.prefix)).await.unwrap();
    assert_eq!(app.post(INTERNAL, "/identity/logout", json!({"token": token})).await.0, 204);
    let message =
        tokio::time::timeout(std::time::Duration::from_secs(5), futures::StreamExt::next(&mut pubsub.on_message()))
            .await
            .unwrap()
            .unwrap();
    assert_eq!(message.get_payload::<String>().unwrap(), sid);
    let gone: Option<String> = redis.get(&key).await.unwrap();
    assert!(gone.is_none());
    let tombstone_ttl: i64 = redis.ttl(format!("{}session-revoked:{{{sid}}}", app.prefix)).await.unwrap();
    assert!((3500..=3600).contains(&tombstone_ttl), "the tombstone lasts as long as the token: {tombstone_ttl}");
    assert_eq!(
        app.count(&format!("SELECT count(*) FROM user_session WHERE id = '{sid}' AND revoked_at IS NOT NULL")).await,
        1
    );
    assert_eq!(app.post(INTERNAL, "/identity/verify", json!({"token": token})).await.0, 401);

    let (status, body) = app.post(INTERNAL, "/identity/verify", json!({"token": "not.a.jwt"})).await;
    assert_eq!(
        (status, body["detail"].as_str()),
        (401, Some("the token is malformed")),
        "in words, not the JWT library's"
    );
    let resp = app.request(INTERNAL, reqwest::Method::POST, "/identity/verify").json(&json!({"token": "x"}));
    assert_eq!(resp.send().await.unwrap().headers()["www-authenticate"], "Bearer");
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sid": sid, "exp": 4102444800u64}),
        &jsonwebtoken::EncodingKey::from_secret(b"another-secret-of-at-least-32-bytes!!"),
    )
    .unwrap();
    assert_eq!(app.post(INTERNAL, "/identity/verify", json!({"token": forged})).await.0, 401);
    app.stop().await;
}

#[tokio::test]
async fn a_failed_login_leaves_no_session_anywhere() {
    let app = app().await;
    sqlx::query("UPDATE users SET status = 'DISABLED' WHERE email = $1")
        .bind(datagen::DEMO_FREE_EMAIL)
        .execute(&app.pg.pool)
        .await
        .unwrap();
    let (status, _) = app
        .post(
            INTERNAL,
            "/identity/login",
            json!({"email": datagen::DEMO_FREE_EMAIL, "password": datagen::DEMO_PASSWORD}),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(app.count("SELECT count(*) FROM user_session").await, 0);
    let mut redis = store::redis_cluster::connect(&testkit::redis_cluster_config()).await.unwrap();
    let keys: Vec<String> =
        redis::cmd("KEYS").arg(format!("{}*", app.prefix)).query_async(&mut redis).await.unwrap_or_default();
    assert!(keys.is_empty(), "{keys:?}");
    app.stop().await;
}

#[tokio::test]
async fn partners_show_contracts_and_current_plan_to_themselves_only() {
    let app = app().await;
    let (status, p) = app.get(INTERNAL, "/partners/1").await;
    assert_eq!(status, 200, "{p}");
    assert_eq!((p["slug"].as_str(), p["current_plan"].as_str()), (Some("demo-agency"), Some("SAAS")));
    assert_eq!(p["contracts"][0]["contract_type"], "SAAS");
    let (_, free) = app.get(INTERNAL, "/partners/2").await;
    assert_eq!(free["current_plan"], "FREE");
    assert_eq!(app.get(SAAS, "/partners/1").await.0, 200);
    assert_eq!(app.get(SAAS, "/partners/3").await.0, 404, "a partner cannot read another");
    assert_eq!(app.get(INTERNAL, "/partners/999").await.0, 404);
    app.stop().await;
}

async fn login(app: &App) -> (String, String) {
    let (status, login) = app
        .post(
            INTERNAL,
            "/identity/login",
            json!({"email": datagen::DEMO_SAAS_EMAIL, "password": datagen::DEMO_PASSWORD}),
        )
        .await;
    assert_eq!(status, 200, "{login}");
    (login["token"].as_str().unwrap().to_owned(), login["session"]["sid"].as_str().unwrap().to_owned())
}

/// The race: a verify reads the live session from Postgres, a logout commits and clears Redis,
/// then the verify writes its re-warm. Without the tombstone check the revoked session is back
/// in Redis for the token's life; here the verify's write is refused and it answers 401.
#[tokio::test]
async fn a_verify_that_read_before_a_logout_cannot_bring_the_session_back() {
    let app = app().await;
    let (token, sid) = login(&app).await;
    let mut paused = app.state.config.hooks.arm("identity.verify.before_cache");
    let verify = {
        let (url, token) = (app.url("/identity/verify"), token.clone());
        tokio::spawn(async move { reqwest::Client::new().post(url).json(&json!({"token": token})).send().await })
    };
    paused.reached().await; // the verify has read a live session
    assert_eq!(app.post(INTERNAL, "/identity/logout", json!({"token": token})).await.0, 204);
    paused.release();
    assert_eq!(verify.await.unwrap().unwrap().status().as_u16(), 401, "the session ended while it was verified");
    let mut redis = store::redis_cluster::connect(&testkit::redis_cluster_config()).await.unwrap();
    let back: Option<String> = redis.get(format!("{}session:{{{sid}}}", app.prefix)).await.unwrap();
    assert!(back.is_none(), "the revoked session came back: {back:?}");
    assert_eq!(app.post(INTERNAL, "/identity/verify", json!({"token": token})).await.0, 401);
    app.stop().await;
}

/// Redis unreachable: login still works (the session lives in Postgres), logout is recorded in
/// Postgres and says Redis was not told (202), and the propagator tells Redis later.
#[tokio::test]
async fn without_redis_login_works_and_logout_is_recorded_then_propagated() {
    let app = app_with(|c| c.redis.addresses = vec!["127.0.0.1:1".into()]).await;
    let (token, sid) = login(&app).await;
    let (status, outcome) = app.post(INTERNAL, "/identity/logout", json!({"token": token})).await;
    assert_eq!(status, 202, "{outcome}");
    assert_eq!((outcome["revoked"].as_bool(), outcome["propagated"].as_bool()), (Some(true), Some(false)));
    let pending = format!(
        "SELECT count(*) FROM user_session WHERE id = '{sid}' AND revoked_at IS NOT NULL AND revocation_pending"
    );
    assert_eq!(app.count(&pending).await, 1);
    assert_eq!(app.post(INTERNAL, "/identity/verify", json!({"token": token})).await.0, 401, "Postgres knows");

    // Redis is back (the real cluster): one propagator pass records the revocation there
    let redis = store::redis_cluster::connect(&testkit::redis_cluster_config()).await.unwrap();
    let sessions = store::sessions::SessionCache::new(
        redis,
        &app.prefix,
        std::time::Duration::from_secs(1),
        breaker::Breaker::new("test_breaker_open", "redis_cluster", Default::default()),
    );
    assert_eq!(coffee::modules::identity::revocations::propagate(&app.pg.pool, &sessions).await.unwrap(), 1);
    assert!(sessions.is_revoked(&sid).await.unwrap());
    assert_eq!(app.count(&pending).await, 0);
    assert_eq!(coffee::modules::identity::revocations::propagate(&app.pg.pool, &sessions).await.unwrap(), 0);
    app.stop().await;
}

/// With `TENANT_SIGNING_SECRET` set, tenant headers count only under the gateway's signature.
#[tokio::test]
async fn unsigned_tenant_headers_are_refused_when_signing_is_configured() {
    let app = app_with(|c| c.tenant_signing_key = Some(coffee::testing::tenant_signing_key())).await;
    let http = reqwest::Client::new();
    let unsigned = http.get(app.url("/coffee/usage")).header("x-bb-partner-id", "1").send().await.unwrap();
    assert_eq!(unsigned.status(), 401);
    let body: serde_json::Value = unsigned.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("x-bb-signature"), "{body}");

    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-bb-partner-id", "1".parse().unwrap());
    headers.insert("x-bb-plan-type", "SAAS".parse().unwrap());
    let now = chrono::Utc::now().timestamp();
    coffee::testing::tenant_signing_key().sign(now, &reqwest::Method::GET, "/coffee/usage", &mut headers);
    let signed = http.get(app.url("/coffee/usage")).headers(headers.clone()).send().await.unwrap();
    assert_eq!(signed.status(), 200);
    // the same signature does not vouch for another partner
    headers.insert("x-bb-partner-id", "2".parse().unwrap());
    assert_eq!(http.get(app.url("/coffee/usage")).headers(headers).send().await.unwrap().status(), 401);
    // no tenant at all: anonymous routes still work
    let anonymous = http.post(app.url("/identity/login")).json(&json!({"email": "x@y.z", "password": "p"}));
    let refused: serde_json::Value = anonymous.send().await.unwrap().json().await.unwrap();
    assert_eq!(refused["detail"], "invalid email or password", "judged as a login, not as unsigned: {refused}");
    app.stop().await;
}
