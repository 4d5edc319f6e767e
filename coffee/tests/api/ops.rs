//! coffee on the real test stack: it starts, reports each dependency, exposes metrics and stops
//! gracefully; an unreachable dependency makes it not-ready, not dead.

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
