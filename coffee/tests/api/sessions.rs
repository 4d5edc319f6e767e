//! The per-request sessions and their middleware, on the real stores: laziness (a request
//! opens only the store it touches, at most once even under racing DAO calls), commit on
//! success, rollback on error, timeout (504) and client disconnect, after-commit hooks, and
//! what commit and rollback mean for ClickHouse (buffered writes sent or dropped).

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::Router;
use coffee::core::clickhouse::PendingWrite;
use coffee::core::context::Ctx;
use coffee::core::dao::{Dao, Value};
use coffee::core::middleware::{context::context, session::session};
use coffee::core::postgres::PgDao;
use coffee::error::{ApiError, ApiResult};
use coffee::modules::partner::service::Partner;

type Hooks = Arc<Mutex<Vec<&'static str>>>;

async fn insert_partner(ctx: &Ctx, slug: &str) -> ApiResult<()> {
    let mut tx = ctx.pg.tx().await?;
    sqlx::query("INSERT INTO partner (name, slug) VALUES ($1, $1)").bind(slug).execute(&mut *tx).await?;
    Ok(())
}

fn ch_insert(profile_id: i64) -> PendingWrite {
    PendingWrite {
        sql: "INSERT INTO social_profile_time_series (platform, profile_id, date, followers, following, posts, engagement_rate, \
              avg_likes, avg_comments, avg_views, category) VALUES ('instagram', ?, toDate('2026-01-01'), 1, 1, 1, 1, 1, 1, 1, 'x')"
            .into(),
        binds: vec![Value::Int(profile_id)],
    }
}

struct Harness {
    base: String,
    pg: testkit::TestPg,
    ch: testkit::TestCh,
    state: coffee::AppState,
    hooks: Hooks,
    running: testkit::Running,
}

async fn harness(timeout: Duration) -> Harness {
    let (pg, ch) = (testkit::pg().await, testkit::ch().await);
    let mut cfg = config(&pg, &ch, &testkit::redis_prefix());
    cfg.server.request_timeout = timeout;
    let addr = cfg.server.addr();
    let state = coffee::state(cfg).await.unwrap();
    let hooks: Hooks = Arc::default();
    let (h1, h2) = (hooks.clone(), hooks.clone());
    let test_routes = Router::new()
        .route(
            "/t/write-then-sleep",
            post(|ctx: Ctx| async move {
                insert_partner(&ctx, "slow").await?;
                tokio::time::sleep(Duration::from_secs(5)).await;
                ApiResult::Ok("done")
            }),
        )
        .route(
            "/t/write-then-fail",
            post(|ctx: Ctx| async move {
                insert_partner(&ctx, "failing").await?;
                ctx.ch.write(ch_insert(2)).await?;
                ApiResult::<&str>::Err(ApiError::Conflict("on purpose".into()))
            }),
        )
        .route(
            "/t/write-ok",
            post(move |ctx: Ctx| async move {
                insert_partner(&ctx, "fine").await?;
                ctx.ch.write(ch_insert(1)).await?;
                let hooks = h1.clone();
                ctx.perform_after_commit(async move { hooks.lock().unwrap().push("committed") });
                ApiResult::Ok("ok")
            }),
        )
        .route(
            "/t/fail-with-hook",
            post(move |ctx: Ctx| async move {
                let hooks = h2.clone();
                ctx.perform_after_commit(async move { hooks.lock().unwrap().push("must not run") });
                ApiResult::<&str>::Err(ApiError::BadRequest("on purpose".into()))
            }),
        )
        .route(
            "/t/race",
            get(|ctx: Ctx| async move {
                let dao = PgDao::<Partner>::default();
                let (a, b, c) =
                    tokio::join!(dao.find_by_id(&ctx, 1), dao.find_by_ids(&ctx, &[1, 2]), dao.find_by_id(&ctx, 2));
                a?;
                b?;
                c?;
                ApiResult::Ok("raced")
            }),
        )
        .route(
            "/t/write-then-wait",
            post(|ctx: Ctx| async move {
                insert_partner(&ctx, "abandoned").await?;
                ctx.ch.write(ch_insert(3)).await?;
                tokio::time::sleep(Duration::from_secs(3)).await;
                ApiResult::Ok("too late")
            }),
        )
        .route_layer(from_fn_with_state(state.clone(), session))
        .route_layer(from_fn_with_state(state.clone(), context))
        .with_state(state.clone());
    let server = platform::http::Server::bind(&addr, test_routes.merge(coffee::router(state.clone()))).await.unwrap();
    let running = testkit::serve(server);
    Harness { base: running.base_url.clone(), pg, ch, state, hooks, running }
}

impl Harness {
    async fn partners(&self, slug: &str) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM partner WHERE slug = $1")
            .bind(slug)
            .fetch_one(&self.pg.pool)
            .await
            .unwrap()
    }
    async fn ch_rows(&self, profile_id: u64) -> u64 {
        self.ch
            .client
            .query("SELECT count() FROM social_profile_time_series WHERE profile_id = ?")
            .bind(profile_id)
            .fetch_one()
            .await
            .unwrap()
    }
    async fn post(&self, path: &str) -> (u16, serde_json::Value) {
        let r = reqwest::Client::new().post(format!("{}{path}", self.base)).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or_default())
    }
}

#[tokio::test]
async fn success_commits_both_stores_then_runs_hooks() {
    let h = harness(Duration::from_secs(5)).await;
    assert_eq!(h.post("/t/write-ok").await.0, 200);
    assert_eq!(h.partners("fine").await, 1);
    assert_eq!(h.ch_rows(1).await, 1, "buffered ClickHouse write sent on commit");
    assert_eq!(*h.hooks.lock().unwrap(), vec!["committed"]);
    h.running.stop().await;
}

#[tokio::test]
async fn an_error_response_rolls_back_both_stores_and_skips_hooks() {
    let h = harness(Duration::from_secs(5)).await;
    let (status, problem) = h.post("/t/write-then-fail").await;
    assert_eq!((status, problem["detail"].as_str()), (409, Some("on purpose")));
    assert_eq!(h.partners("failing").await, 0, "postgres write rolled back");
    assert_eq!(h.ch_rows(2).await, 0, "buffered ClickHouse write dropped");
    assert_eq!(h.post("/t/fail-with-hook").await.0, 400);
    assert!(h.hooks.lock().unwrap().is_empty(), "hooks run only after a commit");
    h.running.stop().await;
}

#[tokio::test]
async fn a_timeout_rolls_back_and_answers_504() {
    let h = harness(Duration::from_secs(1)).await;
    let started = std::time::Instant::now();
    let (status, problem) = h.post("/t/write-then-sleep").await;
    assert_eq!(status, 504, "{problem}");
    assert!(problem["detail"].as_str().unwrap().contains("did not finish within 1 s"));
    assert!(started.elapsed() < Duration::from_secs(4), "the handler was cancelled at the deadline");
    assert_eq!(h.partners("slow").await, 0);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(h.partners("slow").await, 0, "nothing commits later either");
    h.running.stop().await;
}

#[tokio::test]
async fn a_client_disconnect_rolls_back() {
    let h = harness(Duration::from_secs(10)).await;
    let client = reqwest::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
    assert!(client.post(format!("{}/t/write-then-wait", h.base)).send().await.is_err(), "the client gave up");
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(h.partners("abandoned").await, 0, "the abandoned request's transaction was rolled back");
    assert_eq!(h.ch_rows(3).await, 0);
    h.running.stop().await;
}

#[tokio::test]
async fn sessions_open_lazily_and_once() {
    let h = harness(Duration::from_secs(5)).await;
    let stats = h.state.session_stats.clone();
    let counts = || (stats.pg_opened.load(Ordering::SeqCst), stats.ch_opened.load(Ordering::SeqCst));

    // racing DAO calls in one request share one transaction
    let before = counts();
    assert_eq!(reqwest::get(format!("{}/t/race", h.base)).await.unwrap().status(), 200);
    assert_eq!(counts(), (before.0 + 1, before.1));

    // a Postgres-only request never opens ClickHouse
    let before = counts();
    let r = reqwest::Client::new()
        .get(format!("{}/coffee/collections", h.base))
        .header("x-bb-partner-id", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(counts(), (before.0 + 1, before.1));

    // a ClickHouse-only request never opens Postgres (nor takes a pool connection)
    let mut conn = sqlx::Connection::connect(&h.pg.url()).await.unwrap();
    datagen::load(&data(), datagen::Targets { pg: Some(&mut conn), ch: Some(&h.ch.client), progress: false })
        .await
        .unwrap();
    let before = counts();
    let r = reqwest::get(format!("{}/coffee/analytics/instagram/1/timeseries?from=2026-10-01&to=2026-10-31", h.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(counts(), (before.0, before.1 + 1));
    assert_eq!(h.state.ch.in_use(), 0, "the request's ClickHouse slot went back when it ended");

    // a request that needs neither opens neither
    let before = counts();
    let r = reqwest::get(format!("{}/coffee/leaderboard/instagram?month=2026-10&limit=0", h.base)).await.unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(counts(), before);
    h.running.stop().await;
}

#[tokio::test]
async fn reads_skip_the_transaction_until_the_first_write() {
    let h = harness(Duration::from_secs(5)).await;
    let ctx = coffee::core::context::RequestContext::new(
        Default::default(),
        h.state.config.clone(),
        coffee::core::postgres::PgSession::new(h.state.pg.clone(), h.state.session_stats.clone()),
        coffee::core::clickhouse::ChSession::new(h.state.ch.clone(), h.state.session_stats.clone()),
    );
    let dao = PgDao::<Partner>::default();
    assert!(dao.find_by_id(&ctx, 1).await.unwrap().is_none());
    assert!(ctx.pg.is_open().await && !ctx.pg.in_transaction().await, "a read needs no transaction");
    let created = dao
        .create(&ctx, vec![("name", Value::Text("Tx".into())), ("slug", Value::Text("tx".into()))])
        .await
        .unwrap()
        .expect("postgres returns the row");
    assert!(ctx.pg.in_transaction().await, "the first write begins the transaction");
    assert_eq!(
        dao.find_by_id(&ctx, created.id).await.unwrap().map(|p| p.slug),
        Some("tx".into()),
        "later reads see the request's writes"
    );
    assert_eq!(h.partners("tx").await, 0, "invisible to others before commit");
    ctx.rollback().await;
    assert_eq!(h.partners("tx").await, 0);
    h.running.stop().await;
}

#[tokio::test]
async fn a_released_reader_goes_back_to_the_pool_and_reads_go_on() {
    let h = harness(Duration::from_secs(5)).await;
    // a pool of one: while the request reads, nobody else can have a connection
    let one = store::pg::pool(
        &platform::config::PgConfig { max_open_conns: 1, max_idle_conns: 0, ..h.pg.config.clone() },
        Duration::from_secs(1),
    );
    let ctx = coffee::core::context::RequestContext::new(
        Default::default(),
        h.state.config.clone(),
        coffee::core::postgres::PgSession::new(
            store::pg::GuardedPool::new(
                one.clone(),
                Duration::from_secs(5),
                breaker::Breaker::new("test_breaker_open", "postgres", Default::default()),
            ),
            h.state.session_stats.clone(),
        ),
        coffee::core::clickhouse::ChSession::new(h.state.ch.clone(), h.state.session_stats.clone()),
    );
    let opened = h.state.session_stats.pg_opened.load(Ordering::SeqCst);
    let dao = PgDao::<Partner>::default();
    dao.find_by_id(&ctx, 1).await.unwrap();
    assert!(one.try_acquire().is_none(), "the reading request holds the only connection");
    ctx.pg.release_reader().await;
    let other = one.acquire().await.expect("the connection is back in the pool for others");
    drop(other);
    assert!(ctx.pg.is_open().await && !ctx.pg.in_transaction().await);
    dao.find_by_id(&ctx, 2).await.unwrap();
    assert_eq!(h.state.session_stats.pg_opened.load(Ordering::SeqCst), opened + 1, "still one session for the request");
    // a transaction is never released
    let mut tx = ctx.pg.tx().await.unwrap();
    sqlx::query("INSERT INTO partner (name, slug) VALUES ('kept', 'kept')").execute(&mut *tx).await.unwrap();
    drop(tx);
    ctx.pg.release_reader().await;
    assert!(ctx.pg.in_transaction().await);
    ctx.commit(Duration::from_secs(5)).await.unwrap();
    assert_eq!(h.partners("kept").await, 1);
    h.running.stop().await;
}
