//! coffee on the real test stack: it starts, reports each dependency, exposes metrics and stops
//! gracefully; an unreachable Postgres makes it not-ready (not dead), an unreachable ClickHouse
//! only degrades it: analytics answer 503, everything else works.

fn config(pg: &testkit::TestPg, ch: &testkit::TestCh) -> coffee::Config {
    crate::support::config(pg, ch, &testkit::redis_prefix())
}

#[tokio::test]
async fn ready_checks_every_store_and_metrics_count_requests() {
    let (pg, ch) = (testkit::pg().await, testkit::ch().await);
    let app = testkit::serve(coffee::build(config(&pg, &ch)).await.unwrap());

    let (status, body) = app.get("/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    // the same under the module's prefix, which the gateway proxies
    let (status, body) = app.get("/coffee/health").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = app.get("/ready").await;
    assert_eq!(status, 200, "{body}");
    for dep in ["postgres", "clickhouse", "redis_cluster"] {
        assert_eq!(body["checks"][dep]["ok"], true, "{dep}: {body}");
    }
    let (status, body) = app.get("/no/such/route").await;
    assert_eq!(status, 404);
    assert_eq!(body["status"], 404);
    let (_, metrics) = app.get("/metrics").await;
    let metrics = metrics.as_str().unwrap().to_owned();
    assert!(
        metrics.contains(r#"route="/ready""#) && metrics.contains("http_request_duration_seconds_bucket"),
        "{metrics}"
    );
    app.stop().await;
    // stopped, it holds no connection to Postgres (the main pool's and the usage log's)
    assert_eq!(testkit::freeze::service_backends_after_stop(&pg).await, 0, "backends still connected");
}

#[tokio::test]
async fn an_unreachable_postgres_makes_coffee_not_ready() {
    let (mut pg, ch) = (testkit::pg().await, testkit::ch().await);
    pg.config.port = 1; // nothing listens there
    let app = testkit::serve(coffee::build(config(&pg, &ch)).await.unwrap());
    let (status, body) = app.get("/ready").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["postgres"]["ok"], false);
    assert_eq!(body["checks"]["clickhouse"]["ok"], true);
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_clickhouse_degrades_analytics_only() {
    use crate::support::*;
    let app = app_with(|cfg| cfg.ch.port = 1).await; // the data is loaded; then nothing listens
    let (status, body) = app.get(SAAS, "/ready").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("degraded")), "{body}");
    assert_eq!(body["checks"]["clickhouse"]["ok"], false);
    assert_eq!(body["checks"]["postgres"]["ok"], true);

    // analytics say which capability is missing and when to come back
    let resp =
        app.request(SAAS, reqwest::Method::GET, "/coffee/leaderboard/instagram?month=2026-10").send().await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "5");
    let problem: serde_json::Value = resp.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("analytics store is unavailable"), "{problem}");
    let (status, _) = app.get(SAAS, "/coffee/analytics/instagram/2/timeseries?from=2026-10-01&to=2026-10-31").await;
    assert_eq!(status, 503);

    // the rest of coffee works
    assert_eq!(app.get(SAAS, "/coffee/profiles/instagram/2").await.0, 200);
    let (status, body) = app.post(SAAS, "/coffee/collections", serde_json::json!({"name": "without analytics"})).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn a_silent_clickhouse_is_a_503_at_the_deadline_then_at_once() {
    use crate::support::*;
    let (port, accepted) = testkit::silent_server().await;
    let app = app_with(|cfg| {
        cfg.ch.port = port;
        cfg.ch_query_timeout = std::time::Duration::from_millis(300);
        cfg.ch_breaker = breaker::Settings { failures: 2, cooldown: std::time::Duration::from_secs(60) };
    })
    .await;
    let leaderboard = "/coffee/leaderboard/instagram?month=2026-10";
    // the deadline answers, not the request timeout (which would be a 504)
    for _ in 0..2 {
        let (status, body) = app.get(SAAS, leaderboard).await;
        assert_eq!(status, 503, "{body}");
        assert!(body["detail"].as_str().unwrap().contains("analytics store is unavailable"), "{body}");
    }
    // two failures opened the breaker: ClickHouse is not even asked any more
    let asked = accepted.load(std::sync::atomic::Ordering::SeqCst);
    let (status, body) = app.get(SAAS, leaderboard).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["detail"].as_str().unwrap().contains("retry in"), "{body}");
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), asked, "no new connection to ClickHouse");
    // Postgres routes are untouched
    assert_eq!(app.get(SAAS, "/coffee/profiles/instagram/2").await.0, 200);
}
