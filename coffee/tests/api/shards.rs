//! The sharded layout (`clickhouse-ddl/sharded/`, `CH_CLUSTER`) on the test stack's two
//! ClickHouse servers: the same rows give the same answers as on one server, and a shard that is
//! down is a 503, never a partial answer; replicated (`CH_REPLICATED`), both servers hold every
//! row and a replica that is down costs nothing.

use coffee::core::context::RequestContext;
use coffee::modules::analytics::dao::{AnalyticsDao, ChAnalyticsDao, Granularity, Metric};
use rand::SeedableRng;

use crate::reingest::{d, final_series, insert, random_reloads, MONTHS, PLATFORMS};
use crate::support::*;

/// Every analytics answer the DAO gives for the generated data set, as text.
async fn every_answer(app: &App) -> Vec<String> {
    let ctx = RequestContext::new(
        Default::default(),
        app.state.config.clone(),
        coffee::core::postgres::PgSession::new(app.state.pg.clone(), app.state.session_stats.clone()),
        coffee::core::clickhouse::ChSession::new(app.state.ch.clone(), app.state.session_stats.clone()),
    );
    let dao = ChAnalyticsDao;
    let (from, to) = (d("2026-09-01"), d("2026-10-31"));
    let mut out = Vec::new();
    for (platform, _) in PLATFORMS {
        out.push(format!("{:?}", dao.monthly_growth(&ctx, platform, from, d("2026-10-01")).await.unwrap()));
        for month in MONTHS.map(d) {
            for metric in [Metric::Followers, Metric::EngagementRate, Metric::Views, Metric::FollowerGrowth] {
                out.push(format!("{:?}", dao.top(&ctx, platform, month, metric, None, 100).await.unwrap()));
                out.push(format!("{:?}", dao.top(&ctx, platform, month, metric, Some("travel"), 3).await.unwrap()));
            }
        }
        let ids: Vec<i64> = (1..=6).collect();
        out.push(format!("{:?}", dao.growth(&ctx, platform, &ids, d("2026-09-10"), d("2026-10-20")).await.unwrap()));
        for id in ids {
            for g in [Granularity::Day, Granularity::Week, Granularity::Month] {
                out.push(format!("{:?}", dao.series(&ctx, platform, id, from, to, g).await.unwrap()));
            }
        }
    }
    out
}

/// coffee on a sharded database: the generated data set loaded through its Distributed tables.
async fn sharded_app(cluster: &str) -> (App, testkit::TestCh) {
    let sharded = testkit::ch_sharded(cluster).await;
    let app = app_with(|cfg| cfg.ch = sharded.config.clone()).await;
    (app, sharded)
}

#[tokio::test]
async fn two_shards_answer_every_analytics_query_as_one_server_does() {
    let one = app().await;
    let (two, sharded) = sharded_app(testkit::CH_CLUSTER).await;
    datagen::load(&data(), datagen::Targets { pg: None, ch: Some(&sharded.client), progress: false }).await.unwrap();
    // the rows reached both shards, by profile
    for port in &testkit::stack().ch_shards {
        let shard = clickhouse::Client::default()
            .with_url(format!("http://127.0.0.1:{port}"))
            .with_database(&sharded.database)
            .with_validation(false);
        let rows: u64 = shard.query("SELECT count() FROM social_profile_time_series_local").fetch_one().await.unwrap();
        assert!(rows > 0, "shard :{port} holds none of the rows");
    }
    assert_eq!(every_answer(&one).await, every_answer(&two).await, "as loaded");

    // the same re-scrapes on both
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let reloads = random_reloads(final_series(&one.ch.client).await, &mut rng, 150, 3);
    insert(&one.ch.client, &reloads).await;
    insert(&sharded.client, &reloads).await;
    assert_eq!(every_answer(&one).await, every_answer(&two).await, "after re-scrapes");
    one.stop().await;
    two.stop().await;
}

/// One shard down (the cluster's second server is a port nobody listens on): analytics are a
/// 503 with `Retry-After`, not the half of the answer the reachable shard holds; routes that
/// need only Postgres go on.
#[tokio::test]
async fn a_shard_down_is_a_503_never_a_partial_answer() {
    let (app, _sharded) = sharded_app(testkit::CH_CLUSTER_ONE_DOWN).await;
    for path in [
        "/coffee/leaderboard/instagram?month=2026-10",
        "/coffee/analytics/instagram/2/timeseries?from=2026-10-01&to=2026-10-31",
        "/coffee/analytics/instagram/monthly-growth?from=2026-09&to=2026-10",
    ] {
        let resp = app.request(SAAS, reqwest::Method::GET, path).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 503, "{path}");
        assert!(resp.headers().contains_key("retry-after"), "{path}");
    }
    assert_eq!(app.get(SAAS, "/coffee/profiles/instagram/2").await.0, 200);
    app.stop().await;
}

/// The replicated layout (`CH_REPLICATED`, both servers replicas of one shard, ZooKeeper between
/// them): a row written through the `Distributed` table reaches both replicas (the monthly
/// aggregates too, replicated rather than recomputed), and the answers are one server's.
#[tokio::test]
async fn two_replicas_hold_every_row_and_answer_as_one_server_does() {
    let one = app().await;
    let replicated = testkit::ch_replicated(testkit::CH_REPLICATED_CLUSTER).await;
    let two = app_with(|cfg| cfg.ch = replicated.config.clone()).await;
    datagen::load(&data(), datagen::Targets { pg: None, ch: Some(&replicated.client), progress: false }).await.unwrap();
    let rows = data().time_series_rows();
    for port in &testkit::stack().ch_shards {
        let replica = clickhouse::Client::default()
            .with_url(format!("http://127.0.0.1:{port}"))
            .with_database(&replicated.database)
            .with_validation(false);
        let holds_all = || async {
            replica.query("SELECT count() FROM social_profile_time_series_local").fetch_one::<u64>().await.unwrap()
                == rows
        };
        assert!(testkit::eventually(std::time::Duration::from_secs(30), holds_all).await, "replica :{port}");
    }
    assert_eq!(every_answer(&one).await, every_answer(&two).await);
    one.stop().await;
    two.stop().await;
}

/// One replica down (the shard's second replica is a port nobody listens on): writes and reads
/// go on through the replica that answers, with the same answers as one server.
#[tokio::test]
async fn with_one_replica_down_writes_and_reads_go_on() {
    let one = app().await;
    let replicated = testkit::ch_replicated(testkit::CH_REPLICATED_ONE_DOWN).await;
    let two = app_with(|cfg| cfg.ch = replicated.config.clone()).await;
    datagen::load(&data(), datagen::Targets { pg: None, ch: Some(&replicated.client), progress: false }).await.unwrap();
    assert_eq!(every_answer(&one).await, every_answer(&two).await);
    let (status, board) = two.get(SAAS, "/coffee/leaderboard/instagram?month=2026-10").await;
    assert_eq!(status, 200, "{board}");
    one.stop().await;
    two.stop().await;
}
