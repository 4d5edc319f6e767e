//! Edge basics: unknown modules are 404 before authentication, body size limits (declared and
//! streamed), CORS preflights answered without a token, trace context continued into the
//! module, forwarded and hop-by-hop headers, upstream failures as 502/504, and responses
//! streamed rather than buffered.

use std::time::Duration;

use axum::body::Body;
use futures::StreamExt;
use reqwest::{Method, StatusCode};

use crate::support::*;

#[tokio::test]
async fn unknown_modules_are_404_before_authentication() {
    let edge = edge().await;
    let (status, body) = edge.call(Method::GET, "/nowhere/x", None, None).await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(edge.call(Method::GET, "/coffee/usage", None, None).await.0, 401);
    edge.stop().await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_declared_or_streamed() {
    let beat = echo_upstream().await;
    let edge = edge_with(Setup { beat_url: beat.base_url.clone(), ..Setup::default() }).await;
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    // 20 MB against the default 10 MiB, declared up front
    let big = vec![b'x'; 20 * 1024 * 1024];
    let resp = edge.http.post(edge.url("/beat/profiles/x")).bearer_auth(&token).body(big.clone()).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    // the same, streamed without a length
    let frames: Vec<Result<http_body::Frame<bytes::Bytes>, std::io::Error>> =
        big.chunks(64 * 1024).map(|c| Ok(http_body::Frame::data(bytes::Bytes::copy_from_slice(c)))).collect();
    let streamed = reqwest::Body::wrap(http_body_util::StreamBody::new(futures::stream::iter(frames)));
    let resp = edge.http.post(edge.url("/beat/profiles/x")).bearer_auth(&token).body(streamed).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // under the limit passes
    let resp =
        edge.http.post(edge.url("/beat/profiles/x")).bearer_auth(&token).body(vec![b'x'; 1024]).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["body_len"], 1024);
    edge.stop().await;
    beat.stop().await;
}

/// coffee reads every body the edge forwards (axum's own limit is 2 MiB), so a body under
/// `MAX_BODY_BYTES` is coffee's to judge and one over it is the edge's 413, streamed or not,
/// never a 400 or a 502 from coffee giving up first.
#[tokio::test]
async fn coffee_reads_what_the_edge_forwards_and_larger_bodies_are_413() {
    let edge = edge().await;
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let url = edge.url("/coffee/profiles/instagram/search");
    let mut three_mb = vec![b' '; 3 * 1024 * 1024];
    three_mb.extend_from_slice(b"{}");
    let resp = edge.http.post(&url).bearer_auth(&token).header("content-type", "application/json").body(three_mb);
    let resp = resp.send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK, "{}", resp.text().await.unwrap());
    for _ in 0..3 {
        let frames: Vec<Result<http_body::Frame<bytes::Bytes>, std::io::Error>> =
            (0..176).map(|_| Ok(http_body::Frame::data(bytes::Bytes::from(vec![b' '; 64 * 1024])))).collect();
        let streamed = reqwest::Body::wrap(http_body_util::StreamBody::new(futures::stream::iter(frames)));
        let resp = edge.http.post(&url).bearer_auth(&token).header("content-type", "application/json").body(streamed);
        let resp = resp.send().await.unwrap();
        assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE, "11 MiB streamed");
    }
    // coffee's own answer past its limit, for a caller who reaches it directly
    let huge = vec![b' '; 11 * 1024 * 1024];
    let resp = edge.http.post(format!("{}/identity/login", edge.coffee_url)).header("content-type", "application/json");
    let resp = resp.body(huge).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    edge.stop().await;
}

/// A route that does not take the method answers a problem too, with its `Allow`.
#[tokio::test]
async fn a_wrong_method_is_a_405_problem() {
    let edge = edge().await;
    let resp = edge.http.get(edge.url("/identity/login")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.headers()["allow"], "POST");
    assert_eq!(resp.headers()["content-type"], "application/problem+json");
    let resp = edge.http.post(edge.url("/heartbeat")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["status"], 405);
    edge.stop().await;
}

#[tokio::test]
async fn cors_preflights_are_answered_before_authentication_for_configured_origins() {
    let edge =
        edge_with(Setup { env: vec![("CORS_ORIGINS", "https://app.bulbul.dev".into())], ..Setup::default() }).await;
    let preflight = |origin: &'static str| {
        edge.http
            .request(Method::OPTIONS, edge.url("/coffee/usage"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let ok = preflight("https://app.bulbul.dev").await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(ok.headers()["access-control-allow-origin"], "https://app.bulbul.dev");
    assert!(ok.headers()["access-control-allow-headers"].to_str().unwrap().contains("authorization"));
    let other = preflight("https://evil.example").await.unwrap();
    assert!(!other.headers().contains_key("access-control-allow-origin"));
    // actual requests carry the header and expose the limit headers
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let resp = edge
        .http
        .get(edge.url("/coffee/usage"))
        .bearer_auth(&token)
        .header("origin", "https://app.bulbul.dev")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "https://app.bulbul.dev");
    assert!(resp.headers()["access-control-expose-headers"].to_str().unwrap().to_lowercase().contains("ratelimit"));
    edge.stop().await;
}

#[tokio::test]
async fn trace_context_forwarded_and_hop_by_hop_headers_are_handled() {
    let beat = echo_upstream().await;
    let edge = edge_with(Setup { beat_url: beat.base_url.clone(), ..Setup::default() }).await;
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let resp = edge
        .http
        .get(edge.url("/beat/profiles/anything"))
        .bearer_auth(&token)
        .header("traceparent", parent)
        .header("connection", "x-hop-secret")
        .header("x-hop-secret", "must not pass")
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    let headers = &body["headers"];
    let forwarded = headers["traceparent"].as_str().unwrap();
    assert!(forwarded.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"), "same trace: {forwarded}");
    assert_ne!(forwarded, parent, "the gateway is its own span");
    assert!(headers.get("x-hop-secret").is_none() && headers.get("connection").is_none(), "{headers}");
    assert_eq!(headers["x-forwarded-for"], "203.0.113.7, 127.0.0.1");
    assert_eq!(headers["x-forwarded-proto"], "http");
    // no traceparent: a trace starts at the gateway
    let (_, body) = edge.call(Method::GET, "/beat/profiles/anything", Some(&token), None).await;
    let started = body["headers"]["traceparent"].as_str().unwrap();
    assert!(platform::trace_context::TraceContext::parse(started).is_some(), "{started}");
    edge.stop().await;
    beat.stop().await;
}

#[tokio::test]
async fn upstream_down_is_502_and_slow_is_504() {
    let slow = axum::Router::new().fallback(|| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "late"
    });
    let slow = testkit::serve(platform::http::Server::bind("127.0.0.1:0", slow).await.unwrap());
    let edge = edge_with(Setup {
        beat_url: slow.base_url.clone(),
        env: vec![("SERVER_TIMEOUT", "1".into())],
        ..Setup::default()
    })
    .await;
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let (status, body) = edge.call(Method::GET, "/beat/profiles/x", Some(&token), None).await;
    assert_eq!(status, 504, "{body}");
    let mut edge = edge;
    edge.stop_coffee().await;
    // the session and plan are cached; coffee itself is gone
    let (status, body) = edge.call(Method::GET, "/coffee/usage", Some(&token), None).await;
    assert_eq!(status, 502, "{body}");
    assert!(!body["detail"].as_str().unwrap().contains("127.0.0.1"), "no internals: {body}");
    edge.stop().await;
    slow.stop().await;
}

/// A large response is streamed: the client reads its first bytes while the upstream has not
/// finished (is still held back), so the gateway cannot be buffering it.
#[tokio::test]
async fn large_responses_are_streamed_not_buffered() {
    let (release, released) = tokio::sync::watch::channel(false);
    let upstream = axum::Router::new().fallback(move || {
        let released = released.clone();
        async move {
            let first = futures::stream::iter((0..64).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 64 * 1024])));
            let rest = futures::stream::once(async move {
                let mut released = released;
                let _ = released.wait_for(|r| *r).await;
                Ok::<_, std::io::Error>(vec![b'b'; 1024])
            })
            .chain(futures::stream::iter((0..700).map(|_| Ok::<_, std::io::Error>(vec![b'c'; 64 * 1024]))));
            Body::from_stream(first.chain(rest))
        }
    });
    let upstream = testkit::serve(platform::http::Server::bind("127.0.0.1:0", upstream).await.unwrap());
    let edge = edge_with(Setup { beat_url: upstream.base_url.clone(), ..Setup::default() }).await;
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let resp = edge.http.get(edge.url("/beat/profiles/export")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let mut resp = resp;
    let mut received = 0usize;
    while received < 4 * 1024 * 1024 {
        received += resp.chunk().await.unwrap().expect("more body").len();
    }
    // 4 MiB arrived while the upstream is held back before its last 45 MB
    release.send(true).unwrap();
    while let Some(chunk) = resp.chunk().await.unwrap() {
        received += chunk.len();
    }
    assert_eq!(received, 64 * 64 * 1024 + 1024 + 700 * 64 * 1024, "all ~50 MB arrived");
    edge.stop().await;
    upstream.stop().await;
}
