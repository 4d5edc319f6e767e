//! gateway on the real test stack: ready when its Redis Cluster answers, graceful stop.

#[tokio::test]
async fn ready_checks_the_redis_cluster() {
    let config = gateway::Config { server: testkit::server_config(), redis: testkit::redis_cluster_config() };
    let app = testkit::serve(gateway::build(config).await.unwrap());
    let (status, body) = app.get("/ready").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["redis_cluster"]["ok"], true);
    let (_, metrics) = app.get("/metrics").await;
    assert!(metrics.as_str().unwrap().contains("service=\"gateway\""));
    app.stop().await;
}

#[tokio::test]
async fn an_unreachable_cluster_fails_start_up_with_a_clear_error() {
    let mut redis = testkit::redis_cluster_config();
    redis.addresses = vec!["127.0.0.1:1".into()];
    let err = gateway::build(gateway::Config { server: testkit::server_config(), redis })
        .await
        .err()
        .expect("no cluster, no gateway");
    assert!(format!("{err:#}").to_lowercase().contains("connect") || format!("{err:#}").contains("refused"), "{err:#}");
}
