//! Degraded modes, on a Redis Cluster of the test's own (real processes, stopped and started
//! mid-test): the gateway starts and serves without Redis, keeps serving sessions it holds,
//! falls back to identity for the rest, lets requests through its limits (fail open), and
//! recovers when Redis returns. With identity down, Redis and memory keep serving, misses are
//! refused fast by the breaker, and known plans are served stale.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_redis_outage_mid_flight_costs_no_500_and_recovers() {
    let beat = echo_upstream().await;
    let mut cluster = testkit::redis_cluster::PrivateCluster::start().await;
    let edge = edge_with(Setup {
        beat_url: beat.base_url.clone(),
        redis: cluster.config(),
        // every request decided by Redis (no units leased in process), so failing open shows
        env: vec![("RATE_LIMIT_LEASE", "1".into())],
        ..Setup::default()
    })
    .await;
    let cached = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let other = edge.login(datagen::DEMO_FREE_EMAIL).await;
    assert_eq!(edge.get("/beat/profiles/x", &cached).await, 200); // now in memory, plan known

    cluster.stop();
    let (status, body) = edge.gateway.get("/heartbeat").await;
    assert_eq!(status, 503, "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.starts_with("redis "), "it says what is missing, and no more: {body}");
    // memory hit: served; miss: Redis fails fast, identity answers; limits fail open
    let resp = edge.http.get(edge.url("/beat/profiles/x")).bearer_auth(&cached).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(!resp.headers().contains_key("ratelimit"), "no decision was made, so none is claimed");
    assert_eq!(edge.get("/beat/profiles/x", &other).await, 200, "a session no tier had cached: identity knew");
    // logins keep working (the session lives in Postgres)
    let during = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    assert_eq!(edge.get("/beat/profiles/x", &during).await, 200);
    // a logout is recorded, and says Redis was not told
    let (status, body) = edge.call(Method::POST, "/identity/logout", None, Some(json!({"token": during}))).await;
    assert_eq!((status, body["propagated"].as_bool()), (202, Some(false)), "{body}");
    let metrics = edge.metrics().await;
    assert!(
        has_series(&metrics, "ratelimit_decisions_total", "outcome=\"failed_open\""),
        "limits failed open and said so"
    );

    cluster.restart().await;
    assert!(
        eventually(Duration::from_secs(20), || async { edge.gateway.get("/heartbeat").await.0 == 200 }).await,
        "heartbeat recovers"
    );
    // the propagator reaches Redis and every gateway: the logout made during the outage holds
    assert!(eventually(Duration::from_secs(20), || async { edge.get("/beat/profiles/x", &during).await == 401 }).await);
    let resp = edge.http.get(edge.url("/beat/profiles/x")).bearer_auth(&cached).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().contains_key("ratelimit"), "limits decide again");
    edge.stop().await;
    beat.stop().await;
}

/// One master of the three lost (killed), first while the others still serve their slots,
/// then once they notice and refuse everything with CLUSTERDOWN (the cluster requires full
/// coverage): the gateway and coffee answer every request without a 500 and without waiting
/// on Redis (a session held in memory serves, new logins and their sessions work through
/// Postgres, a logout is recorded), and recover when the master returns.
#[tokio::test]
async fn one_redis_cluster_master_lost_costs_no_500_and_no_wait_and_recovers() {
    let beat = echo_upstream().await;
    let mut cluster = testkit::redis_cluster::PrivateCluster::start().await;
    let edge = edge_with(Setup {
        beat_url: beat.base_url.clone(),
        redis: cluster.config(),
        env: vec![("RATE_LIMIT_LEASE", "1".into())],
        ..Setup::default()
    })
    .await;
    let cached = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    assert_eq!(edge.get("/beat/profiles/x", &cached).await, 200);
    let key = tenancy::session_key(&edge.prefix, &edge.sid(&cached).await);
    cluster.stop_node(cluster.node_of(&key).await);

    // a hang would wait for SERVER_TIMEOUT; every answer here comes within Redis's timeouts
    let bound = Duration::from_secs(3);
    let mut during = Vec::new();
    for phase in ["the master just lost", "the cluster refusing everything"] {
        if phase == "the cluster refusing everything" {
            // past cluster-node-timeout (2 s): the live masters mark the cluster failed
            tokio::time::sleep(Duration::from_secs(4)).await;
        }
        let started = std::time::Instant::now();
        assert_eq!(edge.get("/beat/profiles/x", &cached).await, 200, "{phase}: the session held in memory");
        for email in [datagen::DEMO_SAAS_EMAIL, datagen::DEMO_FREE_EMAIL] {
            let token = edge.login(email).await;
            assert_eq!(
                edge.get("/beat/profiles/x", &token).await,
                200,
                "{phase}: a new session, vouched for by Postgres"
            );
            during.push(token);
        }
        let waited = started.elapsed();
        assert!(waited < bound * 5, "{phase}: five requests took {waited:?}");
    }
    let (status, body) =
        edge.call(Method::POST, "/identity/logout", None, Some(json!({"token": during[0].clone()}))).await;
    assert_eq!((status, body["propagated"].as_bool()), (202, Some(false)), "{body}");

    cluster.restart().await;
    assert!(
        eventually(Duration::from_secs(20), || async { edge.gateway.get("/heartbeat").await.0 == 200 }).await,
        "heartbeat recovers"
    );
    assert!(
        eventually(Duration::from_secs(20), || async { edge.get("/beat/profiles/x", &during[0]).await == 401 }).await,
        "the logout made during the outage holds once Redis is back"
    );
    for token in during.iter().skip(1).chain([&cached]) {
        assert_eq!(edge.get("/beat/profiles/x", token).await, 200);
    }
    edge.stop().await;
    beat.stop().await;
}

/// The whole cluster frozen (SIGSTOP: connections accepted, nothing answered), under the
/// gateway and coffee. The first session misses each wait out `REDIS_TIMEOUT_MS` (the gateway's
/// session lookup and limits, coffee's session write) and are served through identity; after
/// `REDIS_BREAKER_FAILURES` of those the breakers answer for Redis at once, so later misses do
/// not wait for it at all. Once the cluster answers again, trial calls close the breakers and
/// limits decide again, without a restart.
#[tokio::test]
async fn a_frozen_redis_cluster_costs_its_timeout_a_few_times_then_nothing_and_recovers() {
    let beat = echo_upstream().await;
    let cluster = testkit::redis_cluster::PrivateCluster::start().await;
    let timeout = Duration::from_secs(1);
    let mut redis = cluster.config();
    redis.timeout = timeout;
    redis.breaker = breaker::Settings { failures: 2, cooldown: Duration::from_secs(5) };
    let edge = edge_with(Setup {
        beat_url: beat.base_url.clone(),
        redis,
        // every request decided by Redis (no units leased in process)
        env: vec![("RATE_LIMIT_LEASE", "1".into())],
        ..Setup::default()
    })
    .await;
    // sessions the gateway has not seen: each first request with one is a miss
    let mut tokens = Vec::new();
    for email in [datagen::DEMO_SAAS_EMAIL, datagen::DEMO_FREE_EMAIL].into_iter().cycle().take(5) {
        tokens.push(edge.login(email).await);
    }

    let frozen = cluster.freeze();
    let mut took = Vec::new();
    for token in &tokens {
        let started = std::time::Instant::now();
        assert_eq!(edge.get("/beat/profiles/x", token).await, 200, "served through identity");
        took.push(started.elapsed());
    }
    let (sessions_open, limits_open) =
        (edge.state.sessions.redis().breaker().is_open(), edge.state.limits.breaker().is_open());
    drop(frozen);
    eprintln!("session misses with the cluster frozen took {took:?}");
    assert!(took[0] >= timeout, "the first miss asked Redis and waited for it: {took:?}");
    assert!(sessions_open && limits_open, "the session and limit breakers opened");
    for late in &took[3..] {
        assert!(*late < timeout, "with the breakers open a miss does not wait for Redis: {took:?}");
    }

    assert!(
        eventually(Duration::from_secs(20), || async { edge.gateway.get("/heartbeat").await.0 == 200 }).await,
        "heartbeat recovers"
    );
    assert!(
        eventually(Duration::from_secs(20), || async {
            let resp = edge.http.get(edge.url("/beat/profiles/x")).bearer_auth(&tokens[0]).send().await.unwrap();
            resp.status() == 200 && resp.headers().contains_key("ratelimit")
        })
        .await,
        "limits decide again once a trial finds Redis back"
    );
    // the next miss is the session tier's trial (its cooldown has passed with the limits'):
    // Redis answers and the breaker closes
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    assert_eq!(edge.get("/beat/profiles/x", &token).await, 200);
    assert!(!edge.state.sessions.redis().breaker().is_open(), "the session tier asks Redis again");
    edge.stop().await;
    beat.stop().await;
}

#[tokio::test]
async fn the_gateway_starts_and_serves_without_redis() {
    let beat = echo_upstream().await;
    let edge = edge_with(Setup {
        beat_url: beat.base_url.clone(),
        env: vec![("REDIS_CLUSTER_ADDRESSES", "127.0.0.1:1".into())],
        ..Setup::default()
    })
    .await;
    assert_eq!(edge.gateway.get("/health").await.0, 200);
    assert_eq!(edge.gateway.get("/heartbeat").await.0, 503);
    // still ready: a gateway without Redis serves (sessions from identity, limits open)
    let (status, body) = edge.gateway.get("/ready").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("degraded")), "{body}");
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    assert_eq!(edge.get("/beat/profiles/x", &token).await, 200, "identity vouched for the session");
    edge.stop().await;
    beat.stop().await;
}

#[tokio::test]
async fn with_identity_down_cached_sessions_serve_misses_fail_fast_and_plans_go_stale() {
    let beat = echo_upstream().await;
    let mut edge = edge_with(Setup {
        beat_url: beat.base_url.clone(),
        env: vec![
            ("IDENTITY_BREAKER_FAILURES", "2".into()),
            ("IDENTITY_BREAKER_COOLDOWN", "60".into()),
            ("PLAN_CACHE_TTL", "1".into()),
        ],
        ..Setup::default()
    })
    .await;
    let in_memory = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let in_redis = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let unknown = edge.login(datagen::DEMO_FREE_EMAIL).await;
    assert_eq!(edge.get("/beat/profiles/x", &in_memory).await, 200);
    // `unknown` is in no cache: not in memory, and its Redis entry is gone
    let mut redis = store::redis_cluster::connect(&testkit::redis_cluster_config()).await.unwrap();
    let key = tenancy::session_key(&edge.prefix, &edge.sid(&unknown).await);
    let _: () = redis::AsyncCommands::del(&mut redis, &key).await.unwrap();
    edge.stop_coffee().await;
    tokio::time::sleep(Duration::from_millis(1100)).await; // the plan is no longer fresh

    assert_eq!(edge.get("/beat/profiles/x", &in_memory).await, 200, "memory, and the stale plan");
    assert_eq!(edge.get("/beat/profiles/x", &in_redis).await, 200, "an L2 hit needs no identity");
    for _ in 0..2 {
        let (status, body) = edge.call(Method::GET, "/beat/profiles/x", Some(&unknown), None).await;
        assert_eq!(status, 502, "{body}");
    }
    let started = std::time::Instant::now();
    let resp = edge.http.get(edge.url("/beat/profiles/x")).bearer_auth(&unknown).send().await.unwrap();
    assert_eq!(resp.status(), 503, "the breaker is open");
    assert!(resp.headers().contains_key("retry-after"));
    assert!(started.elapsed() < Duration::from_secs(1), "refused without waiting on identity");
    assert!(edge.state.sessions.identity().breaker().is_open());
    assert_eq!(edge.get("/beat/profiles/x", &in_memory).await, 200, "memory hits keep serving");
    let metrics = edge.metrics().await;
    assert!(has_series(&metrics, "gateway_plan_lookups_total", "outcome=\"stale\""), "stale plans are counted");
    edge.stop().await;
    beat.stop().await;
}
