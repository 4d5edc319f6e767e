//! Login, verify and logout: Postgres session, Redis `session:{sid}` written after commit,
//! invalidation published on logout; and partners with their plans.

mod common;

use common::*;
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

    let mut redis = store::redis_cluster::connect(&testkit::redis_cluster_config()).await.unwrap();
    let key = format!("{}session:{sid}", app.prefix);
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
    assert_eq!(
        app.count(&format!("SELECT count(*) FROM user_session WHERE id = '{sid}' AND revoked_at IS NOT NULL")).await,
        1
    );
    assert_eq!(app.post(INTERNAL, "/identity/verify", json!({"token": token})).await.0, 401);

    assert_eq!(app.post(INTERNAL, "/identity/verify", json!({"token": "not.a.jwt"})).await.0, 401);
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
