//! The gateway in front of a real coffee, on the real test stack (Postgres, ClickHouse, the
//! 3-node Redis Cluster): login through the gateway, authenticated proxying with the partner
//! and plan injected, spoofed tenant headers stripped, each session tier, logout reaching the
//! in-process tier through the invalidation channel, and the errors.

use std::time::Duration;

use redis::AsyncCommands;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::Connection;

/// base64 of 32 bytes, shared by coffee (signs) and the gateway (verifies)
const HMAC_SECRET: &str = "dGVzdC1vbmx5LWhtYWMtc2VjcmV0LTMyLWJ5dGVzLWxvbmc=";

struct Edge {
    gateway: testkit::Running,
    coffee: testkit::Running,
    state: gateway::AppState,
    prefix: String,
    http: reqwest::Client,
    _pg: testkit::TestPg,
    _ch: testkit::TestCh,
}

async fn edge(session_cache_ttl: Duration) -> Edge {
    edge_with_beat(session_cache_ttl, "http://127.0.0.1:1").await
}

async fn edge_with_beat(session_cache_ttl: Duration, beat_url: &str) -> Edge {
    let (pg, ch) = (testkit::pg().await, testkit::ch().await);
    let data = datagen::GenConfig {
        seed: 3,
        profiles_per_platform: 4,
        days: 10,
        end_date: chrono::Utc::now().date_naive(),
        posts_per_profile: 0,
        partners: 2,
        collections_per_partner: 1,
        pg_time_series: false,
    };
    let mut conn = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
    datagen::load(&data, datagen::Targets { pg: Some(&mut conn), ch: Some(&ch.client), progress: false })
        .await
        .unwrap();
    let prefix = testkit::redis_prefix();
    let coffee_config = coffee::Config {
        server: testkit::server_config(),
        pg: pg.config.clone(),
        ch: ch.config.clone(),
        redis: testkit::redis_cluster_config(),
        slow_query: Duration::from_secs(1),
        hmac_secret: HMAC_SECRET.to_owned().into(),
        jwt_ttl: Duration::from_secs(3600),
        free_profile_view_quota: 10,
        redis_key_prefix: prefix.clone(),
    };
    let coffee = testkit::serve(coffee::build(coffee_config).await.unwrap());
    let config = gateway::Config::from_env(platform::config::Env::from_pairs([
        ("PORT", "0"),
        ("SERVER_HOST", "127.0.0.1"),
        ("REDIS_CLUSTER_ADDRESSES", &testkit::redis_cluster_config().addresses.join(",")),
        ("HMAC_SECRET", HMAC_SECRET),
        ("COFFEE_URL", &coffee.base_url),
        ("BEAT_URL", beat_url),
        ("SESSION_CACHE_TTL", &session_cache_ttl.as_secs().to_string()),
        ("REDIS_KEY_PREFIX", &prefix),
    ]))
    .unwrap();
    let state = gateway::state(config.clone()).await.unwrap();
    let server = platform::http::Server::bind(&config.server.addr(), gateway::router(state.clone())).await.unwrap();
    Edge { gateway: testkit::serve(server), coffee, state, prefix, http: reqwest::Client::new(), _pg: pg, _ch: ch }
}

impl Edge {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self.http.request(method, format!("{}{path}", self.gateway.base_url));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    async fn login(&self, email: &str) -> String {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                "/identity/login",
                None,
                Some(json!({"email": email, "password": datagen::DEMO_PASSWORD})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    async fn lookups(&self, tier: &str) -> u64 {
        let text = reqwest::get(format!("{}/metrics", self.gateway.base_url)).await.unwrap().text().await.unwrap();
        text.lines()
            .find(|l| l.starts_with("gateway_session_lookups_total") && l.contains(&format!("tier=\"{tier}\"")))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    }

    async fn stop(self) {
        self.gateway.stop().await;
        self.coffee.stop().await;
    }
}

#[tokio::test]
async fn a_login_opens_the_modules_with_the_partner_and_plan_injected() {
    let edge = edge(Duration::from_secs(60)).await;
    let saas = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let free = edge.login(datagen::DEMO_FREE_EMAIL).await;

    // coffee sees the partner and plan the gateway resolved, not what the client claims
    let spoofed = edge
        .http
        .get(format!("{}/coffee/usage", edge.gateway.base_url))
        .bearer_auth(&free)
        .header("x-bb-partner-id", "1")
        .header("x-bb-plan-type", "SAAS")
        .send()
        .await
        .unwrap();
    assert_eq!(spoofed.status(), StatusCode::OK);
    let usage: Value = spoofed.json().await.unwrap();
    assert_eq!((usage["plan"].as_str(), usage["profile_quota"].as_i64()), (Some("FREE"), Some(10)), "{usage}");

    let (status, usage) = edge.call(reqwest::Method::GET, "/coffee/usage", Some(&saas), None).await;
    assert_eq!(status, 200, "{usage}");
    assert_eq!(usage["plan"], "SAAS");
    assert!(usage["profile_quota"].is_null());

    // premium fields follow the plan; the view is counted against the session's partner
    let (_, profile) = edge.call(reqwest::Method::GET, "/coffee/profiles/instagram/1", Some(&free), None).await;
    assert!(profile["email"].is_null(), "{profile}");
    let (status, _) = edge.call(reqwest::Method::GET, "/coffee/profiles/instagram/1", Some(&saas), None).await;
    assert_eq!(status, 200);
    let (_, usage) = edge.call(reqwest::Method::GET, "/coffee/usage", Some(&saas), None).await;
    assert_eq!(usage["profile_views"], 1, "{usage}");

    // writes go through too, with the body
    let (status, created) = edge
        .call(reqwest::Method::POST, "/coffee/collections", Some(&saas), Some(json!({"name": "Via the gateway"})))
        .await;
    assert_eq!(status, 201, "{created}");
    let (_, mine) = edge.call(reqwest::Method::GET, "/coffee/collections", Some(&saas), None).await;
    assert!(mine.to_string().contains("Via the gateway"));
    let (_, theirs) = edge.call(reqwest::Method::GET, "/coffee/collections", Some(&free), None).await;
    assert!(!theirs.to_string().contains("Via the gateway"), "tenancy holds through the gateway");
    edge.stop().await;
}

#[tokio::test]
async fn requests_without_a_live_session_are_401_problems() {
    let edge = edge(Duration::from_secs(60)).await;
    let sign = |key: &[u8], exp: i64| {
        let claims = json!({"sid": uuid_like(), "exp": exp, "pid": 1, "uid": 1});
        jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &jsonwebtoken::EncodingKey::from_secret(key))
            .unwrap()
    };
    let hour = chrono::Utc::now().timestamp() + 3600;
    let real_key = base64_decode(HMAC_SECRET);
    let forged = sign(b"someone-elses-key-someone-elses-key", hour);
    let expired = sign(&real_key, hour - 7200);
    let unknown_session = sign(&real_key, hour);
    for (token, why) in [
        (None, "no token"),
        (Some("not-a-jwt"), "garbage"),
        (Some(forged.as_str()), "forged signature"),
        (Some(expired.as_str()), "expired"),
        (Some(unknown_session.as_str()), "well signed, but no such session"),
    ] {
        let resp = edge
            .http
            .get(format!("{}/coffee/usage", edge.gateway.base_url))
            .header("authorization", token.map(|t| format!("Bearer {t}")).unwrap_or_default())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "{why}");
        assert_eq!(resp.headers()["content-type"], "application/problem+json", "{why}");
    }
    // a module that does not exist
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    assert_eq!(edge.call(reqwest::Method::GET, "/nowhere/x", Some(&token), None).await.0, 404);
    edge.stop().await;
}

#[tokio::test]
async fn each_tier_answers_in_turn_and_logout_reaches_the_memory_tier() {
    let edge = edge(Duration::from_secs(600)).await;
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let sid = {
        let (_, session) =
            edge.call(reqwest::Method::POST, "/identity/verify", None, Some(json!({"token": token}))).await;
        session["sid"].as_str().unwrap().to_owned()
    };

    // first use: Redis has the session coffee cached at login
    assert_eq!(edge.call(reqwest::Method::GET, "/coffee/usage", Some(&token), None).await.0, 200);
    assert_eq!(edge.lookups("redis").await, 1);
    // then memory
    assert_eq!(edge.call(reqwest::Method::GET, "/coffee/usage", Some(&token), None).await.0, 200);
    assert_eq!(edge.lookups("memory").await, 1);

    // without the memory and Redis entries, identity (Postgres) still knows, and re-warms Redis
    edge.state.sessions.forget(&sid).await;
    let mut redis = store::redis_cluster::connect(&testkit::redis_cluster_config()).await.unwrap();
    let key = format!("{}session:{sid}", edge.prefix);
    let _: () = redis.del(&key).await.unwrap();
    assert_eq!(edge.call(reqwest::Method::GET, "/coffee/usage", Some(&token), None).await.0, 200);
    assert_eq!(edge.lookups("identity").await, 1);
    let mut rewarmed = false;
    for _ in 0..50 {
        if redis.exists::<_, bool>(&key).await.unwrap() {
            rewarmed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(rewarmed, "identity re-cached the session in Redis");

    // logout: the session is in this gateway's memory tier (TTL 600 s), yet the next request is refused
    assert_eq!(edge.call(reqwest::Method::GET, "/coffee/usage", Some(&token), None).await.0, 200);
    let (status, body) =
        edge.call(reqwest::Method::POST, "/identity/logout", None, Some(json!({"token": token}))).await;
    assert_eq!(status, 204, "{body}");
    let mut refused = false;
    for _ in 0..100 {
        if edge.call(reqwest::Method::GET, "/coffee/usage", Some(&token), None).await.0 == 401 {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "the invalidation announcement evicted the session from memory");
    edge.stop().await;
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn uuid_like() -> String {
    format!("00000000-0000-4000-8000-{:012}", std::process::id())
}

/// `/beat/{*rest}` reaches beat as `/{rest}` (beat serves its original paths at its root), with
/// the caller's tenant injected; without a session it does not reach beat at all.
#[tokio::test]
async fn beat_is_routed_under_its_module_prefix() {
    let echo = axum::Router::new().fallback(|req: axum::extract::Request| async move {
        let partner = req.headers().get("x-bb-partner-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        axum::Json(json!({"path": req.uri().to_string(), "partner": partner}))
    });
    let beat = testkit::serve(platform::http::Server::bind("127.0.0.1:0", echo).await.unwrap());
    let edge = edge_with_beat(Duration::from_secs(60), &beat.base_url).await;
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let (status, body) = edge
        .call(reqwest::Method::GET, "/beat/profiles/instagram/byhandle/nasa?full_refresh=true", Some(&token), None)
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["path"], "/profiles/instagram/byhandle/nasa?full_refresh=true");
    assert!(!body["partner"].as_str().unwrap().is_empty(), "{body}");
    let (status, _) = edge.call(reqwest::Method::GET, "/beat/profiles/instagram/byhandle/nasa", None, None).await;
    assert_eq!(status, 401);
    edge.stop().await;
    beat.stop().await;
}
