//! gateway on the real test stack: ready when its Redis Cluster answers, graceful stop.

fn config(redis_addresses: &str) -> gateway::Config {
    gateway::Config::from_env(platform::config::Env::from_pairs([
        ("PORT", "0"),
        ("SERVER_HOST", "127.0.0.1"),
        ("REDIS_CLUSTER_ADDRESSES", redis_addresses),
        ("HMAC_SECRET", "dGVzdC1vbmx5LWhtYWMtc2VjcmV0LTMyLWJ5dGVzLWxvbmc="),
    ]))
    .unwrap()
}

#[tokio::test]
async fn ready_checks_the_redis_cluster() {
    let config = config(&testkit::redis_cluster_config().addresses.join(","));
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
    let err = gateway::build(config("127.0.0.1:1")).await.err().expect("no cluster, no gateway");
    assert!(format!("{err:#}").to_lowercase().contains("connect") || format!("{err:#}").contains("refused"), "{err:#}");
}
