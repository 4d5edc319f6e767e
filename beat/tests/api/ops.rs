//! beat reports Postgres, ClickHouse and Redis, and stops gracefully.

use crate::support::{config, world};

#[tokio::test]
async fn ready_checks_every_dependency() {
    let w = world().await;
    let (status, _, body) = w.get("/ready").await;
    assert_eq!(status, 200, "{body}");
    for dep in ["postgres", "clickhouse", "redis"] {
        assert_eq!(body["checks"][dep]["ok"], true, "{dep}: {body}");
    }
    w.beat.stop().await;
    // stopped, it holds no connection to Postgres (the main pool's and the request log's)
    assert_eq!(testkit::freeze::service_backends_after_stop(&w.pg).await, 0, "backends still connected");
}

#[tokio::test]
async fn an_unreachable_postgres_makes_beat_not_ready() {
    let (mut pg, ch) = (testkit::pg().await, testkit::ch().await);
    pg.config.port = 1;
    let app = testkit::serve(beat::build(config(&pg, &ch, "http://127.0.0.1:1")).await.unwrap());
    let (status, body) = app.get("/ready").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["checks"]["postgres"]["ok"], false);
    app.stop().await;
}

#[tokio::test]
async fn the_openapi_document_lists_the_refresh_route() {
    let w = world().await;
    let (status, _, doc) = w.get("/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["paths"]["/profiles/{platform}/byhandle/{handle}"]["get"].is_object(), "{doc}");
}
