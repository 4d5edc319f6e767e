//! Operations: `/heartbeat` and `/ready` follow Redis, the metrics the edge promises exist, and
//! the gateway stops gracefully.

use reqwest::Method;

use crate::support::*;

#[tokio::test]
async fn heartbeat_ready_and_metrics() {
    let edge = edge().await;
    let (status, body) = edge.gateway.get("/heartbeat").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")), "{body}");
    let (status, body) = edge.gateway.get("/ready").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["checks"]["redis_cluster"]["ok"], true);

    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    assert_eq!(edge.get("/coffee/usage", &token).await, 200);
    assert_eq!(edge.get("/coffee/usage", &token).await, 200);
    assert_eq!(edge.call(Method::GET, "/coffee/usage", Some("bad"), None).await.0, 401);
    let metrics = edge.metrics().await;
    for (name, label) in [
        ("gateway_session_lookups_total", "tier=\"redis\""),
        ("gateway_session_lookups_total", "tier=\"memory\""),
        ("gateway_plan_lookups_total", "outcome=\"fetched\""),
        ("gateway_breaker_open", "dependency=\"identity\""),
        ("gateway_auth_failures_total", "reason=\"malformed\""),
        ("gateway_upstream_responses_total", "module=\"coffee\""),
        ("ratelimit_decisions_total", "stack=\"edge_saas\""),
        ("gateway_invalidation_subscribed", ""),
        ("gateway_upstream_duration_seconds_bucket", "module=\"coffee\""),
    ] {
        assert!(has_series(&metrics, name, label), "{name} {label} missing");
    }
    edge.stop().await;
}
