//! Refreshing creators through the simulated sources: what is stored, failover, credential
//! benching, limits, single flight, the request log, and bad input.

use std::time::Duration;

use futures::future::join_all;
use serde_json::json;

use crate::support::{world, world_with};

async fn ch_count(w: &crate::support::World, sql: &str) -> u64 {
    w.ch.client.query(sql).fetch_one::<u64>().await.unwrap()
}

#[tokio::test]
async fn a_new_handle_is_stored_in_postgres_and_clickhouse_once_a_day() {
    let w = world().await;
    let (status, _, body) = w.get("/profiles/instagram/byhandle/nasa?full_refresh=true").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["handle"], "nasa");
    assert!(body["followers"].as_i64().unwrap() > 0);
    let id = body["id"].as_i64().unwrap();
    let posts: i64 = sqlx::query_scalar("SELECT count(*) FROM instagram_post WHERE account_id = $1")
        .bind(id)
        .fetch_one(&w.pg.pool)
        .await
        .unwrap();
    assert_eq!(posts, 12, "the first page of posts");
    assert!(body["engagement_rate"].as_f64().unwrap() > 0.0, "{body}");

    // forced again the same day: the day's row is replaced, not added
    let (status, _, again) = w.get("/profiles/instagram/byhandle/NASA?force_refresh=true").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], body["id"]);
    let rows =
        ch_count(&w, &format!("SELECT count() FROM social_profile_time_series FINAL WHERE profile_id = {id}")).await;
    assert_eq!(rows, 1);
    let days = ch_count(
        &w,
        &format!("SELECT toUInt64(uniqMerge(days_reported)) FROM profile_monthly_stats WHERE profile_id = {id} AND platform = 'instagram'"),
    )
    .await;
    assert_eq!(days, 1, "the monthly view counts the day once");
    let post_rows =
        ch_count(&w, &format!("SELECT count() FROM post_metrics_time_series FINAL WHERE profile_id = {id}")).await;
    assert_eq!(post_rows, 12);

    // fresh now: answered from the store, no provider call
    let before = w.calls("insta-best-performance profile").await + w.calls("arraybobo info_username").await;
    let (status, _, _) = w.get("/profiles/instagram/byhandle/nasa").await;
    assert_eq!(status, 200);
    let after = w.calls("insta-best-performance profile").await + w.calls("arraybobo info_username").await;
    assert_eq!(before, after);
}

#[tokio::test]
async fn a_stored_handle_reported_under_a_new_platform_id_keeps_its_row() {
    let w = world().await;
    // the creator as another numbering knew it, in a partner's collection
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO instagram_account (ig_id, handle, full_name, followers) VALUES ('17000000001', 'Nasa', 'NASA', 10)
         RETURNING id",
    )
    .fetch_one(&w.pg.pool)
    .await
    .unwrap();
    let (status, _, body) = w.get("/profiles/instagram/byhandle/nasa?full_refresh=true&force_refresh=true").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["id"], id, "the stored row is refreshed, not duplicated");
    assert!(body["followers"].as_i64().unwrap() > 10, "{body}");
    let (rows, ig_id): (i64, String) =
        sqlx::query_as("SELECT count(*) OVER (), ig_id FROM instagram_account WHERE lower(handle) = 'nasa'")
            .fetch_one(&w.pg.pool)
            .await
            .unwrap();
    assert_eq!(rows, 1);
    assert_ne!(ig_id, "17000000001", "the row now carries the id the sources report");
}

#[tokio::test]
async fn youtube_channels_refresh_with_their_videos() {
    let w = world().await;
    let (status, _, body) = w.get("/profiles/youtube/byhandle/mrbeast?full_refresh=true").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["external_id"].as_str().unwrap().starts_with("UC"));
    let videos: i64 = sqlx::query_scalar("SELECT count(*) FROM youtube_video").fetch_one(&w.pg.pool).await.unwrap();
    assert_eq!(videos, 10);
    assert_eq!(w.calls("youtube138 video/details").await, 10);

    // the Data API shapes, when youtube138 is down
    w.faults("youtube138", json!({"server_error": 1.0})).await;
    let (status, _, body) = w.get("/profiles/youtube/byhandle/veritasium?full_refresh=true").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(w.calls("youtubev31 videos").await, 1);
}

async fn fails_over(fault: serde_json::Value) {
    let w = world().await;
    w.faults("insta-best-performance", fault).await;
    let (status, _, body) = w.get("/profiles/instagram/byhandle/natgeo").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(w.calls("insta-best-performance profile").await, 1, "the first source was asked");
    assert_eq!(w.calls("arraybobo info_username").await, 1, "the second answered");
}

#[tokio::test]
async fn fails_over_on_a_server_error() {
    fails_over(json!({"server_error": 1.0})).await;
}

#[tokio::test]
async fn fails_over_on_provider_throttling() {
    fails_over(json!({"throttle": 1.0})).await;
}

#[tokio::test]
async fn fails_over_on_a_timeout() {
    fails_over(json!({"hang": 1.0})).await;
}

#[tokio::test]
async fn fails_over_on_a_malformed_body() {
    fails_over(json!({"malformed": 1.0})).await;
}

#[tokio::test]
async fn a_throttled_credential_rests_for_retry_after_then_heals() {
    let w = world().await;
    w.faults("insta-best-performance", json!({"throttle": 1.0, "retry_after_secs": 30})).await;
    let (status, _, _) = w.get("/profiles/instagram/byhandle/natgeo").await;
    assert_eq!(status, 200);
    let (rest, failures): (f64, i32) = sqlx::query_as(
        "SELECT extract(epoch FROM disabled_till - now())::float8, failure_count FROM credential WHERE source = 'insta-best-performance'",
    )
    .fetch_one(&w.pg.pool)
    .await
    .unwrap();
    assert!((28.0..=30.0).contains(&rest), "benched for {rest} s");
    assert_eq!(failures, 1);

    // benched: the source is skipped without a call
    let (status, _, _) = w.get("/profiles/instagram/byhandle/nasa").await;
    assert_eq!(status, 200);
    assert_eq!(w.calls("insta-best-performance profile").await, 1);

    // a short rest heals by itself, and a success clears the failure count
    w.faults("insta-best-performance", json!({"throttle": 1.0, "retry_after_secs": 1})).await;
    sqlx::query("UPDATE credential SET disabled_till = now() WHERE source = 'insta-best-performance'")
        .execute(&w.pg.pool)
        .await
        .unwrap();
    let _ = w.get("/profiles/instagram/byhandle/bbc").await;
    w.faults("insta-best-performance", json!({})).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, _, _) = w.get("/profiles/instagram/byhandle/cnn").await;
    assert_eq!(status, 200);
    assert_eq!(w.calls("insta-best-performance profile").await, 3, "asked again once healed");
    let failures: i32 =
        sqlx::query_scalar("SELECT failure_count FROM credential WHERE source = 'insta-best-performance'")
            .fetch_one(&w.pg.pool)
            .await
            .unwrap();
    assert_eq!(failures, 0);
}

#[tokio::test]
async fn every_credential_benched_is_a_503_with_retry_after() {
    let w = world().await;
    sqlx::query("UPDATE credential SET disabled_till = now() + interval '42 seconds' WHERE source NOT LIKE 'youtube%'")
        .execute(&w.pg.pool)
        .await
        .unwrap();
    let (status, headers, body) = w.get("/profiles/instagram/byhandle/nasa").await;
    assert_eq!(status, 503, "{body}");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((40..=42).contains(&retry), "{retry}");
    assert_eq!(headers["content-type"], "application/problem+json");
    assert!(body["detail"].as_str().unwrap().contains("no usable credential"), "{body}");
}

#[tokio::test]
async fn the_stacked_limit_answers_429_with_the_original_body_and_headers() {
    let w = world().await;
    let (status, headers, _) = w.get("/profiles/instagram/byhandle/nasa?full_refresh=true&force_refresh=true").await;
    assert_eq!(status, 200);
    assert!(headers["ratelimit-policy"].to_str().unwrap().contains("\"handle\";q=1;w=1"));
    let (status, headers, body) = w.get("/profiles/instagram/byhandle/nasa?full_refresh=true&force_refresh=true").await;
    assert_eq!(status, 429);
    assert_eq!(body, json!({"message": "Concurrency Limit Exceeded", "code": 2}));
    assert_eq!(headers["retry-after"], "1");
    assert!(headers["ratelimit"].to_str().unwrap().contains("\"handle\";r=0"), "{headers:?}");
    // another handle still passes: only the per-handle level was spent
    let (status, _, _) = w.get("/profiles/instagram/byhandle/natgeo?full_refresh=true").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn concurrent_refreshes_of_one_handle_share_one_provider_call() {
    let w = world().await;
    w.faults("insta-best-performance", json!({"slow": 1.0, "slow_ms": 300})).await;
    let calls = (0..50).map(|_| w.get("/profiles/instagram/byhandle/nasa"));
    let answers = join_all(calls).await;
    assert!(answers.iter().all(|(s, _, b)| *s == 200 && b["handle"] == "nasa"));
    assert_eq!(w.calls("insta-best-performance profile").await, 1);
}

#[tokio::test]
async fn every_provider_call_is_logged() {
    let w = world().await;
    w.faults("insta-best-performance", json!({"server_error": 1.0})).await;
    let (status, _, _) = w.get("/profiles/instagram/byhandle/nasa").await;
    assert_eq!(status, 200);
    type LogRow = (String, Option<i16>, Option<i64>, Option<String>);
    let mut rows: Vec<LogRow> = Vec::new();
    for _ in 0..50 {
        rows = sqlx::query_as("SELECT source, status_code, credential_id, error FROM scrape_request_log ORDER BY id")
            .fetch_all(&w.pg.pool)
            .await
            .unwrap();
        if rows.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!((rows[0].0.as_str(), rows[0].1), ("insta-best-performance", Some(503)));
    assert!(rows[0].2.is_some() && rows[0].3.is_some());
    assert_eq!((rows[1].0.as_str(), rows[1].1, rows[1].3.as_deref()), ("arraybobo", Some(200), None));
}

#[tokio::test]
async fn an_unreachable_source_is_a_502_that_never_shows_its_credential() {
    // the Data API and the Graph API carry their credentials in the query string, which the
    // HTTP client's errors quote
    let unreachable = |name: &str| beat::config::SourceConfig {
        name: name.to_owned(),
        base_url: format!("http://127.0.0.1:1/{name}"),
    };
    let w = world_with(|c| {
        c.sources = vec![
            (domain::Platform::Instagram, vec![unreachable("graphapi")]),
            (domain::Platform::Youtube, vec![unreachable("youtube-data-api")]),
        ];
    })
    .await;
    let secrets = ["key-google", "graph-token"];
    for (path, source) in [
        ("/profiles/youtube/byhandle/veritasium", "youtube-data-api"),
        ("/profiles/instagram/byhandle/natgeo", "graphapi"),
    ] {
        let (status, _, body) = w.get(path).await;
        assert_eq!(status, 502, "{body}");
        assert_eq!(body["detail"], format!("every source failed: {source}: unavailable"), "{body}");
    }
    let mut errors: Vec<Option<String>> = Vec::new();
    for _ in 0..50 {
        errors =
            sqlx::query_scalar("SELECT error FROM scrape_request_log ORDER BY id").fetch_all(&w.pg.pool).await.unwrap();
        if errors.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(errors.len(), 2, "both failures are logged: {errors:?}");
    for error in &errors {
        let error = error.as_deref().expect("a failed call logs its error");
        assert!(error.contains("error sending request"), "the log says what failed: {error}");
        assert!(!secrets.iter().any(|s| error.contains(s)), "no credential in the request log: {error}");
    }
}

#[tokio::test]
async fn a_redirecting_source_is_not_followed_so_its_credential_stays_home() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // a second host counting what reaches it, and a source that redirects there
    let caught = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = caught.clone();
    let elsewhere = axum::Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            "{}"
        }
    });
    let elsewhere = testkit::serve(platform::http::Server::bind("127.0.0.1:0", elsewhere).await.unwrap());
    let target = format!("{}/collect", elsewhere.base_url);
    let redirecting = axum::Router::new().fallback(move || {
        let target = target.clone();
        async move { axum::response::Redirect::temporary(&target) }
    });
    let redirecting = testkit::serve(platform::http::Server::bind("127.0.0.1:0", redirecting).await.unwrap());
    let base_url = format!("{}/youtube-data-api", redirecting.base_url);
    let w = world_with(|c| {
        c.sources.retain(|(p, _)| *p != domain::Platform::Youtube);
        let source = beat::config::SourceConfig { name: "youtube-data-api".to_owned(), base_url };
        c.sources.push((domain::Platform::Youtube, vec![source]));
    })
    .await;
    let (status, _, body) = w.get("/profiles/youtube/byhandle/veritasium").await;
    assert_eq!(status, 502, "a redirect is not an answer: {body}");
    assert_eq!(caught.load(Ordering::SeqCst), 0, "nothing (and no key) reached the other host");
}

#[tokio::test]
async fn a_log_store_outage_does_not_fail_refreshes() {
    let w = world_with(|c| c.log_pg.port = 1).await;
    let (status, _, body) = w.get("/profiles/instagram/byhandle/nasa?full_refresh=true").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn bad_input_and_unknown_creators() {
    let w = world().await;
    for path in [
        "/profiles/instagram/byhandle/mr-beast",
        "/profiles/youtube/byhandle/ab",
        "/profiles/tiktok/byhandle/nasa",
        "/profiles/instagram/byhandle/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ] {
        let (status, headers, body) = w.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(headers["content-type"], "application/problem+json");
    }
    let (status, _, body) = w.get("/profiles/instagram/byhandle/nobody_here").await;
    assert_eq!(status, 404, "{body}");
    let (status, _, _) = w.get("/profiles/youtube/byhandle/nobody-here").await;
    assert_eq!(status, 404);
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM instagram_account").fetch_one(&w.pg.pool).await.unwrap();
    assert_eq!(stored, 0);
}

/// Each adapter on its own: every other source of the platform fails, so this one must read
/// its source's profile and posts.
#[tokio::test]
async fn every_adapter_reads_its_source() {
    let w = world().await;
    let platforms = [
        ("instagram", vec!["insta-best-performance", "arraybobo", "rocketapi", "graphapi"]),
        ("youtube", vec!["youtube138", "youtubev31", "youtube-data-api"]),
    ];
    for (platform, sources) in platforms {
        for (i, target) in sources.iter().enumerate() {
            for other in &sources {
                let faults = if other == target { json!({}) } else { json!({"server_error": 1.0}) };
                w.faults(other, faults).await;
            }
            let handle = format!("creator_{i}");
            let (status, _, body) = w.get(&format!("/profiles/{platform}/byhandle/{handle}?full_refresh=true")).await;
            assert_eq!(status, 200, "{target}: {body}");
            assert_eq!(body["handle"], handle.as_str(), "{target}");
            assert!(body["followers"].as_i64().unwrap() > 0, "{target}: {body}");
            let table = if platform == "instagram" { "instagram_post" } else { "youtube_video" };
            let posts: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table} WHERE account_id = $1"))
                .bind(body["id"].as_i64().unwrap())
                .fetch_one(&w.pg.pool)
                .await
                .unwrap();
            assert!(posts >= 10, "{target} stored {posts} posts");
        }
    }
}

/// The simulator's per-key quota: past it the source answers 429 with `Retry-After`, and that
/// credential rests for as long while the next source serves.
#[tokio::test]
async fn a_spent_provider_quota_benches_the_key_until_its_window_ends() {
    let w = world().await;
    let url = format!("{}/_simulator/quota", w.simulator.base_url);
    let status = w.http.post(url).json(&json!({"per_key": 1, "window_secs": 60})).send().await.unwrap().status();
    assert_eq!(status, 204);
    let (status, _, _) = w.get("/profiles/instagram/byhandle/nasa").await;
    assert_eq!(status, 200);
    let (status, _, _) = w.get("/profiles/instagram/byhandle/natgeo").await;
    assert_eq!(status, 200, "the next source served");
    let rest: f64 = sqlx::query_scalar(
        "SELECT extract(epoch FROM disabled_till - now())::float8 FROM credential WHERE source = 'insta-best-performance'",
    )
    .fetch_one(&w.pg.pool)
    .await
    .unwrap();
    assert!((55.0..=60.0).contains(&rest), "benched for {rest} s");
    assert_eq!(w.calls("arraybobo info_username").await, 1);
}

#[tokio::test]
async fn with_clickhouse_silent_a_refresh_is_a_503_at_the_write_deadline_and_the_next_one_too() {
    let (port, _) = testkit::silent_server().await;
    let write_deadline = Duration::from_millis(500);
    let w = world_with(|cfg| {
        cfg.ch.port = port;
        cfg.ch_write_timeout = write_deadline;
    })
    .await;
    for handle in ["nasa", "natgeo"] {
        let started = std::time::Instant::now();
        let (status, headers, body) = w.get(&format!("/profiles/instagram/byhandle/{handle}")).await;
        // the write's deadline answers, not the request's (a 504), and the writer is not stuck
        assert_eq!(status, 503, "{body}");
        assert_eq!(headers["retry-after"], "5");
        assert!(body["detail"].as_str().unwrap().contains("analytics store is unavailable"), "{body}");
        assert!(started.elapsed() < Duration::from_secs(10), "{handle}: answered after {:?}", started.elapsed());
        let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM instagram_account WHERE handle = $1")
            .bind(handle)
            .fetch_one(&w.pg.pool)
            .await
            .unwrap();
        assert_eq!(stored, 1, "{handle} is in Postgres; only the day's time series is missing");
    }
}

/// After `CH_BREAKER_FAILURES` inserts in a row found ClickHouse silent, the snapshot writer's
/// breaker opens: the next refresh still stores its creator and is told at once (no new
/// connection to ClickHouse, no wait for the insert deadline).
#[tokio::test]
async fn with_clickhouse_silent_the_breaker_answers_refreshes_at_once() {
    let (port, accepted) = testkit::silent_server().await;
    let write_deadline = Duration::from_millis(500);
    let w = world_with(|cfg| {
        cfg.ch.port = port;
        cfg.ch_write_timeout = write_deadline;
        cfg.ch_breaker = breaker::Settings { failures: 2, cooldown: Duration::from_secs(60) };
    })
    .await;
    for handle in ["nasa", "natgeo"] {
        assert_eq!(w.get(&format!("/profiles/instagram/byhandle/{handle}")).await.0, 503);
    }
    let asked = accepted.load(std::sync::atomic::Ordering::SeqCst);
    let started = std::time::Instant::now();
    let (status, headers, body) = w.get("/profiles/instagram/byhandle/spacex").await;
    let waited = started.elapsed();
    assert_eq!(status, 503, "{body}");
    assert!(headers.contains_key("retry-after"));
    assert!(waited < write_deadline, "told at once, not at the insert deadline: {waited:?}");
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), asked, "ClickHouse was not asked");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM instagram_account WHERE handle = 'spacex'")
        .fetch_one(&w.pg.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "the creator is still stored");
}

#[tokio::test]
async fn without_clickhouse_a_refresh_is_a_503_and_the_creator_is_kept() {
    let w = world_with(|cfg| cfg.ch.port = 1).await; // nothing listens there
    let (status, headers, body) = w.get("/profiles/instagram/byhandle/nasa").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(headers["content-type"], "application/problem+json");
    assert_eq!(headers["retry-after"], "5");
    assert!(body["detail"].as_str().unwrap().contains("analytics store is unavailable"), "{body}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM instagram_account WHERE handle = 'nasa'")
        .fetch_one(&w.pg.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "the creator is in Postgres; only the day's time series is missing");
}

/// ClickHouse restarted under beat (`testkit::relay`: the real server behind a relay that is
/// closed and opened again): a refresh while it is away stores the creator and answers 503
/// with `Retry-After`; once it is back the same refresh stores the day's time series, without
/// restarting beat.
#[tokio::test]
async fn a_clickhouse_restart_costs_only_the_time_series_while_away() {
    let mut relay = testkit::relay::Relay::to(testkit::stack().ch_http_port).await;
    let w = world_with(|cfg| cfg.ch.port = relay.port).await;
    let (status, _, body) = w.get("/profiles/instagram/byhandle/before_restart").await;
    assert_eq!(status, 200, "{body}");

    relay.stop();
    let (status, headers, body) = w.get("/profiles/instagram/byhandle/during_restart").await;
    assert_eq!(status, 503, "{body}");
    assert!(headers.contains_key("retry-after"));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM instagram_account WHERE handle = 'during_restart'")
        .fetch_one(&w.pg.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "the creator is in Postgres");

    relay.start().await;
    let refreshed = || async { w.get("/profiles/instagram/byhandle/during_restart?force_refresh=true").await };
    let mut answer = refreshed().await;
    for _ in 0..50 {
        if answer.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        answer = refreshed().await;
    }
    let (status, _, body) = answer;
    assert_eq!(status, 200, "served again once ClickHouse is back: {body}");
    let id = body["id"].as_i64().unwrap();
    let rows =
        ch_count(&w, &format!("SELECT count() FROM social_profile_time_series FINAL WHERE profile_id = {id}")).await;
    assert_eq!(rows, 1, "the day's time series, stored once ClickHouse was back");
}

/// beat on the sharded layout (`CH_CLUSTER`, the test stack's two servers): a refresh's day goes
/// through the Distributed tables to its profile's shard and is readable at once, the monthly
/// view on that shard counts it; with a shard down the refresh stores its creator and says the
/// time series was not written (503), instead of leaving the rows queued.
#[tokio::test]
async fn refreshes_write_through_the_sharded_layout_and_a_shard_down_is_a_503() {
    let sharded = testkit::ch_sharded(testkit::CH_CLUSTER).await;
    let w = world_with(|cfg| cfg.ch = sharded.config.clone()).await;
    let (status, _, body) = w.get("/profiles/instagram/byhandle/nasa?full_refresh=true").await;
    assert_eq!(status, 200, "{body}");
    let id = body["id"].as_i64().unwrap();
    let client = &sharded.client;
    let count = |sql: String| async move { client.query(&sql).fetch_one::<u64>().await.unwrap() };
    assert_eq!(count(format!("SELECT count() FROM social_profile_time_series WHERE profile_id = {id}")).await, 1);
    assert_eq!(count(format!("SELECT count() FROM post_metrics_time_series WHERE profile_id = {id}")).await, 12);
    let days = format!("SELECT toUInt64(uniqMerge(days_reported)) FROM profile_monthly_stats WHERE profile_id = {id}");
    assert_eq!(count(days).await, 1);

    let down = testkit::ch_sharded(testkit::CH_CLUSTER_ONE_DOWN).await;
    let w = world_with(|cfg| cfg.ch = down.config.clone()).await;
    let (status, headers, body) = w.get("/profiles/instagram/byhandle/natgeo").await;
    assert_eq!(status, 503, "{body}");
    assert!(headers.contains_key("retry-after"));
    assert!(body["detail"].as_str().unwrap().contains("analytics store is unavailable"), "{body}");
}
