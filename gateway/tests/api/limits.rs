//! Edge rate limits: per partner by plan (with the client's level decided in the same check),
//! per IP without a session, per email+IP on login; headers on every limited response and a
//! 429 problem with `Retry-After` when a level is spent.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

#[tokio::test]
async fn a_partner_gets_its_plans_quota_with_headers_then_429() {
    let edge = edge_with(Setup {
        env: vec![("RATE_LIMIT_SAAS", "partner=3/1m".into()), ("RATE_LIMIT_CLIENT", "client=2/1m".into())],
        ..Setup::default()
    })
    .await;
    let saas = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let get = |client: &'static str| {
        edge.http.get(edge.url("/coffee/usage")).bearer_auth(&saas).header("x-bb-client-id", client).send()
    };
    let first = get("app-1").await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["ratelimit-policy"], "\"partner\";q=3;w=60, \"client\";q=2;w=60");
    assert_eq!(first.headers()["ratelimit"].to_str().unwrap().split(", ").next(), Some("\"partner\";r=2;t=20"));
    assert_eq!(get("app-1").await.unwrap().status(), StatusCode::OK);

    // app-1's own level is spent; a rejection charges nothing, so the partner still has one
    let limited = get("app-1").await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.headers()["content-type"], "application/problem+json");
    assert!(limited.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    let body: Value = limited.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("client"), "{body}");
    assert_eq!(get("app-2").await.unwrap().status(), StatusCode::OK, "another client of the partner");
    let spent = get("app-3").await.unwrap();
    assert_eq!(spent.status(), StatusCode::TOO_MANY_REQUESTS);
    let body: Value = spent.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("partner"), "{body}");

    // another plan, another partner: its own budget
    let free = edge.login(datagen::DEMO_FREE_EMAIL).await;
    assert_eq!(edge.get("/coffee/usage", &free).await, 200);
    edge.stop().await;
}

#[tokio::test]
async fn logins_are_limited_per_email_and_ip_before_identity_spends_argon2() {
    let edge = edge_with(Setup { env: vec![("RATE_LIMIT_LOGIN", "login=2/1m".into())], ..Setup::default() }).await;
    let attempt = |email: &'static str, password: &'static str| {
        edge.call(Method::POST, "/identity/login", None, Some(json!({"email": email, "password": password})))
    };
    assert_eq!(attempt(datagen::DEMO_SAAS_EMAIL, "guess-1").await.0, 401);
    assert_eq!(attempt("Demo@Bulbul.dev", "guess-2").await.0, 401, "emails count case-insensitively");
    let (status, body) = attempt(datagen::DEMO_SAAS_EMAIL, datagen::DEMO_PASSWORD).await;
    assert_eq!(status, 429, "even the right password waits: {body}");
    assert!(body["detail"].as_str().unwrap().contains("login"), "{body}");
    // another account from the same address is not locked out
    assert_eq!(attempt(datagen::DEMO_FREE_EMAIL, datagen::DEMO_PASSWORD).await.0, 200);
    edge.stop().await;
}

#[tokio::test]
async fn routes_without_a_session_are_limited_per_ip() {
    let edge = edge_with(Setup { env: vec![("RATE_LIMIT_IP", "ip=2/1m".into())], ..Setup::default() }).await;
    let verify = || edge.call(Method::POST, "/identity/verify", None, Some(json!({"token": "x.y.z"})));
    assert_eq!(verify().await.0, 401);
    assert_eq!(verify().await.0, 401);
    let limited = edge.http.post(edge.url("/identity/verify")).json(&json!({"token": "x.y.z"})).send().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    assert_eq!(limited.headers()["ratelimit-policy"], "\"ip\";q=2;w=60");
    edge.stop().await;
}
