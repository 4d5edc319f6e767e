//! The one test harness: coffee (signing required, as in production) and gateways configured
//! for the test, plus a programmable upstream standing in for beat.

use reqwest::Method;
use serde_json::{json, Value};
use sqlx::Connection;

pub use coffee::testing::HMAC_SECRET;

pub struct Edge {
    pub gateway: testkit::Running,
    pub coffee: Option<testkit::Running>,
    pub state: gateway::AppState,
    pub coffee_url: String,
    pub prefix: String,
    pub http: reqwest::Client,
    /// beat and its provider simulator, when the setup asked for them.
    pub beat: Option<(testkit::Running, testkit::Running)>,
    env: Vec<(String, String)>,
    pub pg: testkit::TestPg,
    _ch: testkit::TestCh,
}

/// How a test wants its edge.
pub struct Setup {
    /// Gateway variables on top of the defaults (limits high enough not to interfere).
    pub env: Vec<(&'static str, String)>,
    pub beat_url: String,
    /// The cluster both coffee and the gateway use (default: the shared stack's).
    pub redis: platform::config::RedisClusterConfig,
    /// The data set loaded into the test's databases.
    pub data: datagen::GenConfig,
    /// A real beat on the same databases, its sources at a provider simulator, instead of
    /// `beat_url`; with its refresh limit (`REFRESH_LIMITS` form).
    pub beat: Option<&'static str>,
    /// coffee's FREE plan quota of distinct profiles a month.
    pub free_quota: Option<u32>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            env: Vec::new(),
            beat_url: "http://127.0.0.1:1".into(),
            redis: testkit::redis_cluster_config(),
            data: datagen::GenConfig {
                seed: 3,
                profiles_per_platform: 4,
                days: 10,
                end_date: chrono::Utc::now().date_naive(),
                posts_per_profile: 0,
                partners: 2,
                collections_per_partner: 1,
                pg_time_series: false,
            },
            beat: None,
            free_quota: None,
        }
    }
}

pub async fn edge() -> Edge {
    edge_with(Setup::default()).await
}

pub async fn edge_with(setup: Setup) -> Edge {
    let (pg, ch) = (testkit::pg().await, testkit::ch().await);
    let mut conn = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
    datagen::load(&setup.data, datagen::Targets { pg: Some(&mut conn), ch: Some(&ch.client), progress: false })
        .await
        .unwrap();
    let prefix = testkit::redis_prefix();
    let base = coffee::testing::config(&pg, &ch, &prefix);
    let coffee_config = coffee::Config {
        tenant_signing_key: Some(coffee::testing::tenant_signing_key()),
        redis: setup.redis.clone(),
        free_profile_view_quota: setup.free_quota.unwrap_or(base.free_profile_view_quota),
        ..base
    };
    let coffee = testkit::serve(coffee::build(coffee_config).await.unwrap());
    let mut beat = None;
    let beat_url = match setup.beat {
        None => setup.beat_url.clone(),
        Some(limits) => {
            let simulator = beat::simulator::Simulator::new().router();
            let simulator = testkit::serve(platform::http::Server::bind("127.0.0.1:0", simulator).await.unwrap());
            beat::testing::seed_credentials(&pg.pool).await;
            let config = beat::Config {
                refresh_limits: ratelimit::StackPolicy::parse("refresh_profile", limits).unwrap(),
                ..beat::testing::config(&pg, &ch, &simulator.base_url)
            };
            let server = testkit::serve(beat::build(config).await.unwrap());
            let url = server.base_url.clone();
            beat = Some((server, simulator));
            url
        }
    };
    let mut env = gateway::testing::env(&coffee.base_url, &beat_url, &prefix, &setup.redis);
    for (k, v) in setup.env {
        gateway::testing::set(&mut env, k, v);
    }
    let (gateway, state) = start_gateway(&env).await;
    Edge {
        gateway,
        coffee_url: coffee.base_url.clone(),
        coffee: Some(coffee),
        state,
        prefix,
        http: reqwest::Client::new(),
        beat,
        env,
        pg,
        _ch: ch,
    }
}

async fn start_gateway(env: &[(String, String)]) -> (testkit::Running, gateway::AppState) {
    let pairs = env.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let config = gateway::Config {
        hooks: platform::hooks::Hooks::for_tests(),
        ..gateway::Config::from_env(platform::config::Env::from_pairs(pairs)).unwrap()
    };
    let state = gateway::state(config.clone()).await.unwrap();
    let server = platform::http::Server::bind(&config.server.addr(), gateway::router(state.clone())).await.unwrap();
    (testkit::serve(server), state)
}

/// A second gateway beside the first: same coffee, same Redis, same prefix.
pub struct Peer {
    pub gateway: testkit::Running,
}

impl Edge {
    pub async fn peer(&self) -> Peer {
        let (gateway, _) = start_gateway(&self.env).await;
        Peer { gateway }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.gateway.base_url)
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
        call(&self.http, &self.gateway.base_url, method, path, token, body).await
    }

    pub async fn get(&self, path: &str, token: &str) -> u16 {
        self.call(Method::GET, path, Some(token), None).await.0
    }

    pub async fn login(&self, email: &str) -> String {
        let (status, body) = self
            .call(
                Method::POST,
                "/identity/login",
                None,
                Some(json!({"email": email, "password": datagen::DEMO_PASSWORD})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    pub async fn sid(&self, token: &str) -> String {
        let claims = token.split('.').nth(1).unwrap();
        use base64::Engine as _;
        let claims: Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(claims).unwrap()).unwrap();
        claims["sid"].as_str().unwrap().to_owned()
    }

    pub async fn metrics(&self) -> String {
        reqwest::get(self.url("/metrics")).await.unwrap().text().await.unwrap()
    }

    pub async fn stop_coffee(&mut self) {
        if let Some(c) = self.coffee.take() {
            c.stop().await;
        }
    }

    pub async fn stop(self) {
        let Edge { gateway, coffee, beat, .. } = self;
        gateway.stop().await;
        if let Some(c) = coffee {
            c.stop().await;
        }
        if let Some((beat, simulator)) = beat {
            beat.stop().await;
            simulator.stop().await;
        }
    }
}

impl Peer {
    pub async fn get(&self, path: &str, token: &str) -> u16 {
        call(&reqwest::Client::new(), &self.gateway.base_url, Method::GET, path, Some(token), None).await.0
    }
}

pub async fn call(
    http: &reqwest::Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = http.request(method, format!("{base}{path}"));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let text = resp.text().await.unwrap();
    if status >= 400 {
        assert_eq!(ct, "application/problem+json", "{status} without a problem body: {text}");
    }
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Whether the Prometheus text has a sample of `name` carrying `label` (e.g. `tier="redis"`).
pub fn has_series(metrics: &str, name: &str, label: &str) -> bool {
    metrics.lines().any(|l| l.starts_with(&format!("{name}{{")) && l.contains(label))
        || (label.is_empty() && metrics.lines().any(|l| l.starts_with(name)))
}

pub use testkit::eventually;

/// A stand-in for beat that reads the whole body and answers with what it received (path,
/// headers, body length), so tests can see exactly what the gateway forwarded.
pub async fn echo_upstream() -> testkit::Running {
    let echo = axum::Router::new().fallback(|req: axum::extract::Request| async move {
        let headers: serde_json::Map<String, Value> = req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), Value::String(v.to_str().unwrap_or("").to_owned())))
            .collect();
        let path = req.uri().to_string();
        let body = axum::body::to_bytes(req.into_body(), usize::MAX).await.map(|b| b.len()).unwrap_or(0);
        axum::Json(json!({"path": path, "headers": headers, "body_len": body}))
    });
    testkit::serve(platform::http::Server::bind("127.0.0.1:0", echo).await.unwrap())
}
