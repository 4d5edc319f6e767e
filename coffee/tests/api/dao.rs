//! The generic DAO's ClickHouse implementation on a ClickHouse entity (the daily series): reads,
//! searches, writes buffered until commit, and a commit to a silent server.

use crate::support::*;
use clickhouse::Row;
use coffee::core::clickhouse::ChDao;
use coffee::core::context::RequestContext;
use coffee::core::dao::{Dao, Direction, Entity, Filter, Op, SearchQuery, Value};
use serde::Deserialize;

/// One day of one Instagram profile, addressed by profile id (first matching day).
#[derive(Debug, Deserialize, Row)]
struct Day {
    profile_id: u64,
    followers: u64,
}

impl Entity for Day {
    type Id = i64;
    const TABLE: &'static str = "social_profile_time_series";
    const ID: &'static str = "profile_id";
    const COLUMNS: &'static str = "profile_id, followers";
    const DEFAULT_SORT: &'static [(&'static str, Direction)] = &[("date", Direction::Asc)];
}

fn ctx(app: &App) -> RequestContext {
    RequestContext::new(
        Default::default(),
        app.state.config.clone(),
        coffee::core::postgres::PgSession::new(app.state.pg.clone(), app.state.session_stats.clone()),
        coffee::core::clickhouse::ChSession::new(app.state.ch.clone(), app.state.session_stats.clone()),
    )
}

#[tokio::test]
async fn the_clickhouse_dao_reads_searches_and_buffers_writes_until_commit() {
    let app = app().await;
    let dao = ChDao::<Day>::default();
    let c = ctx(&app);
    assert_eq!(dao.find_by_id(&c, 3).await.unwrap().map(|d| d.profile_id), Some(3));
    assert!(dao.find_by_id(&c, 999).await.unwrap().is_none());
    let days = dao.find_by_ids(&c, &[1, 2]).await.unwrap();
    assert_eq!(days.len(), 2 * 2 * 61, "two profiles, both platforms, 61 days");

    let threshold = app
        .count("SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY followers) FROM social_profile_time_series")
        .await;
    let query = SearchQuery {
        filters: vec![
            Filter { column: "platform", op: Op::Eq, value: Value::Text("youtube".into()) },
            Filter { column: "followers", op: Op::Gte, value: Value::Int(threshold) },
            Filter { column: "profile_id", op: Op::In, value: Value::IntList(vec![1, 2, 3]) },
        ],
        sort: vec![("followers", Direction::Desc)],
        page: 1,
        size: 5,
    };
    let (rows, total) = dao.search(&c, &query).await.unwrap();
    let expected = app
        .count(&format!(
            "SELECT count(*) FROM social_profile_time_series WHERE platform = 'youtube' AND followers >= {threshold} AND profile_id IN (1, 2, 3)"
        ))
        .await;
    assert_eq!(total, expected as u64);
    assert_eq!(rows.len(), 5.min(expected as usize));
    assert!(rows.windows(2).all(|w| w[0].followers >= w[1].followers));
    assert!(rows.iter().all(|d| d.followers as i64 >= threshold && d.profile_id <= 3));

    // a created row exists only once the request commits; rollback drops it
    let values = || {
        vec![
            ("platform", Value::Text("instagram".into())),
            ("profile_id", Value::Int(77)),
            ("date", Value::Date(chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap())),
            ("followers", Value::Int(5)),
        ]
    };
    let rolled_back = ctx(&app);
    assert!(dao.create(&rolled_back, values()).await.unwrap().is_none(), "buffered: nothing to return yet");
    rolled_back.rollback().await;
    assert!(dao.find_by_id(&c, 77).await.unwrap().is_none());
    let committed = ctx(&app);
    dao.create(&committed, values()).await.unwrap();
    assert!(dao.find_by_id(&c, 77).await.unwrap().is_none(), "not before commit");
    committed.commit(std::time::Duration::from_secs(10)).await.unwrap();
    assert_eq!(dao.find_by_id(&c, 77).await.unwrap().map(|d| d.followers), Some(5));
    app.stop().await;
}

/// A commit whose ClickHouse never answers ends at `CH_QUERY_TIMEOUT_MS` with the analytics
/// store unavailable (a 503 for the request), instead of holding the request until its own
/// deadline; the Postgres part is unaffected.
#[tokio::test]
async fn a_commit_to_a_silent_clickhouse_ends_at_the_query_deadline() {
    let (port, _) = testkit::silent_server().await;
    let app = app_with(|cfg| {
        cfg.ch.port = port;
        cfg.ch_query_timeout = std::time::Duration::from_millis(300);
    })
    .await;
    let dao = ChDao::<Day>::default();
    let c = ctx(&app);
    let values = vec![
        ("platform", Value::Text("instagram".into())),
        ("profile_id", Value::Int(78)),
        ("date", Value::Date(chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap())),
        ("followers", Value::Int(5)),
    ];
    dao.create(&c, values).await.unwrap();
    let started = std::time::Instant::now();
    let outcome =
        tokio::time::timeout(std::time::Duration::from_secs(10), c.commit(std::time::Duration::from_secs(10))).await;
    let err = outcome.expect("the commit ended instead of waiting on ClickHouse").expect_err("nothing answered");
    assert!(err.to_string().contains("analytics store is unavailable"), "{err}");
    assert_eq!(axum::response::IntoResponse::into_response(err).status(), 503);
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "{:?}", started.elapsed());
    app.stop().await;
}
