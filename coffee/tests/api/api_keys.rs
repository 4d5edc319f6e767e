//! API keys' races and outages at coffee: a verify that read a key just before its revocation
//! cannot cache it again, and a revocation Redis missed is recorded and propagated later (the
//! edge's view of keys is tested in the gateway's suite).

use std::time::Duration;

use serde_json::json;

use crate::support::*;

async fn create(app: &App) -> (i64, String) {
    let (status, created) = app.post(SAAS, "/coffee/api-keys", json!({"name": "k", "scope": "read"})).await;
    assert_eq!(status, 201, "{created}");
    (created["key"]["id"].as_i64().unwrap(), created["secret"].as_str().unwrap().to_owned())
}

fn cache(app: &App, redis: redis::cluster_async::ClusterConnection) -> store::sessions::SessionCache {
    store::sessions::SessionCache::new(
        redis,
        &app.prefix,
        Duration::from_secs(1),
        breaker::Breaker::new("test_breaker_open", "redis_cluster", Default::default()),
    )
}

/// The race: a verify reads the live key from Postgres, a revocation commits and clears Redis,
/// then the verify writes its re-warm. The tombstone refuses that write: the verify answers
/// revoked and Redis stays empty.
#[tokio::test]
async fn a_verify_that_read_before_a_revocation_cannot_cache_the_key_again() {
    let app = app().await;
    let (id, secret) = create(&app).await;
    let mut paused = app.state.config.hooks.arm("api_key.verify.before_cache");
    let verify = {
        let (url, secret) = (app.url("/identity/api-keys/verify"), secret.clone());
        tokio::spawn(async move { reqwest::Client::new().post(url).json(&json!({"key": secret})).send().await })
    };
    paused.reached().await; // the verify has read a live key
    assert_eq!(app.delete(SAAS, &format!("/coffee/api-keys/{id}")).await.0, 204);
    paused.release();
    let verdict: serde_json::Value = verify.await.unwrap().unwrap().json().await.unwrap();
    assert_eq!(verdict["status"], "revoked", "{verdict}");
    let redis = store::redis_cluster::connect(&testkit::redis_cluster_config()).await.unwrap();
    let hash = tenancy::ApiKey::parse(&secret).unwrap().hash();
    assert_eq!(cache(&app, redis).get_key(&hash).await.unwrap(), None, "the revoked key came back");
    app.stop().await;
}

/// Redis unreachable: the revocation is recorded in Postgres, answered 202 (not propagated),
/// verify already refuses the key, and the propagator tells Redis once it answers.
#[tokio::test]
async fn without_redis_a_revocation_is_recorded_then_propagated() {
    let app = app_with(|c| c.redis.addresses = vec!["127.0.0.1:1".into()]).await;
    let (id, secret) = create(&app).await;
    let (status, outcome) = app.delete(SAAS, &format!("/coffee/api-keys/{id}")).await;
    assert_eq!(status, 202, "{outcome}");
    assert_eq!((outcome["revoked"].as_bool(), outcome["propagated"].as_bool()), (Some(true), Some(false)));
    let pending = format!("SELECT count(*) FROM partner_api_key WHERE id = {id} AND revocation_pending");
    assert_eq!(app.count(&pending).await, 1);
    let (_, verdict) = app.post(INTERNAL, "/identity/api-keys/verify", json!({"key": secret})).await;
    assert_eq!(verdict["status"], "revoked", "Postgres knows");

    let redis = store::redis_cluster::connect(&testkit::redis_cluster_config()).await.unwrap();
    let sessions = cache(&app, redis);
    assert_eq!(coffee::modules::api_key::revocations::propagate(&app.pg.pool, &sessions).await.unwrap(), 1);
    let hash = tenancy::ApiKey::parse(&secret).unwrap().hash();
    assert!(sessions.is_key_revoked(&hash).await.unwrap());
    assert_eq!(app.count(&pending).await, 0);
    assert_eq!(coffee::modules::api_key::revocations::propagate(&app.pg.pool, &sessions).await.unwrap(), 0);
    app.stop().await;
}

/// At most 25 live keys per partner; revoking one makes room.
#[tokio::test]
async fn a_partner_holds_a_bounded_number_of_live_keys() {
    let app = app().await;
    let mut first = None;
    for _ in 0..coffee::modules::api_key::service::MAX_LIVE_KEYS {
        first.get_or_insert(create(&app).await.0);
    }
    let (status, body) = app.post(SAAS, "/coffee/api-keys", json!({"name": "one more", "scope": "read"})).await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(app.delete(SAAS, &format!("/coffee/api-keys/{}", first.unwrap())).await.0, 204);
    let (id, _) = create(&app).await;
    // another partner's key is not found, neither to revoke nor to rotate
    assert_eq!(app.delete(PAID, &format!("/coffee/api-keys/{id}")).await.0, 404);
    assert_eq!(app.post(PAID, &format!("/coffee/api-keys/{id}/rotate"), json!({})).await.0, 404);
    app.stop().await;
}
