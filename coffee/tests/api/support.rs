//! A coffee on the real test stack with its own Postgres and ClickHouse databases, its own
//! Redis key prefix, and a small generated data set (2026-09-01 … 2026-10-31, 6 profiles per
//! platform; partner 1 SAAS, partner 2 FREE, partner 3 PAID).

use chrono::NaiveDate;
use reqwest::{Method, RequestBuilder};
use serde_json::Value;
use sqlx::Connection;

pub const SAAS_PARTNER: i64 = 1;
pub const FREE_PARTNER: i64 = 2;
pub const PAID_PARTNER: i64 = 3;

pub fn data() -> datagen::GenConfig {
    datagen::GenConfig {
        seed: 5,
        profiles_per_platform: 6,
        days: 61,
        end_date: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        posts_per_profile: 2,
        partners: 3,
        collections_per_partner: 1,
        pg_time_series: true,
    }
}

pub struct App {
    pub base: String,
    pub pg: testkit::TestPg,
    /// The app's own ClickHouse database, held for as long as the app runs.
    pub ch: testkit::TestCh,
    pub state: coffee::AppState,
    pub prefix: String,
    running: Option<testkit::Running>,
    http: reqwest::Client,
}

pub fn config(pg: &testkit::TestPg, ch: &testkit::TestCh, prefix: &str) -> coffee::Config {
    coffee::testing::config(pg, ch, prefix)
}

/// A running coffee over freshly generated data.
pub async fn app() -> App {
    app_with(|_| {}).await
}

pub async fn app_with(tweak: impl FnOnce(&mut coffee::Config)) -> App {
    let (pg, ch) = (testkit::pg().await, testkit::ch().await);
    let mut conn = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
    datagen::load(&data(), datagen::Targets { pg: Some(&mut conn), ch: Some(&ch.client), progress: false })
        .await
        .unwrap();
    let prefix = testkit::redis_prefix();
    let mut cfg = config(&pg, &ch, &prefix);
    tweak(&mut cfg);
    let addr = cfg.server.addr();
    let state = coffee::state(cfg).await.unwrap();
    let server = platform::http::Server::bind(&addr, coffee::router(state.clone())).await.unwrap();
    let running = testkit::serve(server);
    App { base: running.base_url.clone(), pg, ch, state, prefix, running: Some(running), http: reqwest::Client::new() }
}

/// A caller: which partner and plan the gateway would have injected.
#[derive(Clone, Copy)]
pub struct As {
    pub partner: Option<i64>,
    pub plan: &'static str,
}

pub const SAAS: As = As { partner: Some(SAAS_PARTNER), plan: "SAAS" };
pub const FREE: As = As { partner: Some(FREE_PARTNER), plan: "FREE" };
pub const PAID: As = As { partner: Some(PAID_PARTNER), plan: "PAID" };
pub const INTERNAL: As = As { partner: None, plan: "SAAS" };

impl App {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn request(&self, who: As, method: Method, path: &str) -> RequestBuilder {
        let mut r = self.http.request(method, format!("{}{path}", self.base)).header("x-bb-plan-type", who.plan);
        if let Some(p) = who.partner {
            r = r.header("x-bb-partner-id", p.to_string());
        }
        r
    }

    pub async fn send(&self, r: RequestBuilder) -> (u16, Value) {
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        let text = resp.text().await.unwrap();
        if status >= 400 {
            assert_eq!(ct, "application/problem+json", "error {status} without a problem body: {text}");
        }
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub async fn get(&self, who: As, path: &str) -> (u16, Value) {
        self.send(self.request(who, Method::GET, path)).await
    }

    pub async fn post(&self, who: As, path: &str, body: Value) -> (u16, Value) {
        self.send(self.request(who, Method::POST, path).json(&body)).await
    }

    pub async fn patch(&self, who: As, path: &str, body: Value) -> (u16, Value) {
        self.send(self.request(who, Method::PATCH, path).json(&body)).await
    }

    pub async fn delete(&self, who: As, path: &str) -> (u16, Value) {
        self.send(self.request(who, Method::DELETE, path)).await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.pg.pool).await.unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
    }
}
