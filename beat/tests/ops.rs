//! beat on the real test stack: it reports Postgres, ClickHouse and Redis, and stops gracefully.

fn config(pg: &testkit::TestPg, ch: &testkit::TestCh) -> beat::Config {
    beat::Config {
        server: testkit::server_config(),
        pg: pg.config.clone(),
        ch: ch.config.clone(),
        redis_url: testkit::redis_url(),
    }
}

#[tokio::test]
async fn ready_checks_every_dependency() {
    let (pg, ch) = (testkit::pg().await, testkit::ch().await);
    let app = testkit::serve(beat::build(config(&pg, &ch)).await.unwrap());
    let (status, body) = app.get("/ready").await;
    assert_eq!(status, 200, "{body}");
    for dep in ["postgres", "clickhouse", "redis"] {
        assert_eq!(body["checks"][dep]["ok"], true, "{dep}: {body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_postgres_makes_beat_not_ready() {
    let (mut pg, ch) = (testkit::pg().await, testkit::ch().await);
    pg.config.port = 1;
    let app = testkit::serve(beat::build(config(&pg, &ch)).await.unwrap());
    let (status, body) = app.get("/ready").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["postgres"]["ok"], false);
    app.stop().await;
}
