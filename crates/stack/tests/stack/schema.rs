//! The schemas on the real servers: migrations on an empty database, the ClickHouse DDL, and the
//! generated data set flowing through the materialized views.

use chrono::NaiveDate;
use sqlx::Connection;

#[tokio::test]
async fn migrations_apply_to_an_empty_database_and_a_second_run_is_a_no_op() {
    let db = testkit::pg_empty().await;
    store::schema::MIGRATOR.run(&db.pool).await.expect("first run");
    let applied: i64 =
        sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success").fetch_one(&db.pool).await.unwrap();
    assert_eq!(applied as usize, store::schema::MIGRATOR.iter().count());

    let tables_before: i64 =
        sqlx::query_scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    store::schema::MIGRATOR.run(&db.pool).await.expect("second run");
    let applied_again: i64 =
        sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations").fetch_one(&db.pool).await.unwrap();
    assert_eq!(applied_again, applied, "a second run must not record anything new");
    let tables_after: i64 =
        sqlx::query_scalar("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
            .fetch_one(&db.pool)
            .await
            .unwrap();
    assert_eq!(tables_before, tables_after);
    // 27 platform tables + sqlx's bookkeeping table
    assert!(tables_after >= 28, "expected the complete schema, found {tables_after} tables");
}

#[tokio::test]
async fn schema_has_the_tables_and_constraints_the_platform_relies_on() {
    let db = testkit::pg().await;
    for table in [
        "instagram_account",
        "youtube_account",
        "instagram_post",
        "youtube_video",
        "profile_collection",
        "profile_collection_item",
        "post_collection",
        "post_collection_item",
        "collection_post_metrics_summary",
        "leaderboard",
        "partner",
        "partner_contract",
        "partner_usage",
        "activity_tracker",
        "partner_profile_page_track",
        "users",
        "account",
        "user_session",
        "credential",
        "scrape_task",
        "scrape_request_log",
        "social_profile_time_series",
    ] {
        let exists: bool =
            sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(table).fetch_one(&db.pool).await.unwrap();
        assert!(exists, "table {table} is missing");
    }
    // a collection item must reference a real profile of its platform
    sqlx::query("INSERT INTO partner (id, name, slug) VALUES (1, 'P', 'p')").execute(&db.pool).await.unwrap();
    sqlx::query("INSERT INTO profile_collection (id, partner_id, name) VALUES (1, 1, 'c')")
        .execute(&db.pool)
        .await
        .unwrap();
    let err = sqlx::query("INSERT INTO profile_collection_item (collection_id, platform, instagram_account_id) VALUES (1, 'instagram', 999)")
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert_eq!(err.as_database_error().and_then(|e| e.code()).as_deref(), Some("23503"), "{err}");
    let err = sqlx::query(
        "INSERT INTO profile_collection_item (collection_id, platform, youtube_account_id) VALUES (1, 'instagram', 1)",
    )
    .execute(&db.pool)
    .await
    .unwrap_err();
    assert_eq!(err.as_database_error().and_then(|e| e.code()).as_deref(), Some("23514"), "{err}");
    // collection names are unique per partner, case-insensitively
    let err = sqlx::query("INSERT INTO profile_collection (partner_id, name) VALUES (1, 'C')")
        .execute(&db.pool)
        .await
        .unwrap_err();
    assert_eq!(err.as_database_error().and_then(|e| e.code()).as_deref(), Some("23505"), "{err}");
}

#[tokio::test]
async fn clickhouse_ddl_applies_on_the_stack_server_and_is_idempotent() {
    let ch = testkit::ch_empty().await;
    let first = store::schema::apply_clickhouse_ddl(&ch.client).await.unwrap();
    assert_eq!(first.len(), store::schema::CLICKHOUSE_DDL.len());
    let second = store::schema::apply_clickhouse_ddl(&ch.client).await.unwrap();
    assert!(second.is_empty(), "second run applied {second:?}");

    #[derive(Debug, serde::Deserialize, clickhouse::Row)]
    struct Table {
        name: String,
        engine: String,
    }
    let tables: Vec<Table> = ch
        .client
        .query("SELECT name, engine FROM system.tables WHERE database = ? ORDER BY name")
        .bind(&ch.database)
        .fetch_all()
        .await
        .unwrap();
    let engine = |n: &str| tables.iter().find(|t| t.name == n).map(|t| t.engine.clone()).unwrap_or_default();
    assert_eq!(engine("social_profile_time_series"), "ReplacingMergeTree");
    assert_eq!(engine("post_metrics_time_series"), "ReplacingMergeTree");
    assert_eq!(engine("profile_monthly_stats"), "AggregatingMergeTree");
    assert_eq!(engine("profile_monthly_stats_mv"), "MaterializedView");
    assert_eq!(engine("post_monthly_stats_mv"), "MaterializedView");
}

fn tiny() -> datagen::GenConfig {
    datagen::GenConfig {
        seed: 11,
        profiles_per_platform: 6,
        days: 62,
        end_date: NaiveDate::from_ymd_opt(2026, 10, 31).unwrap(),
        posts_per_profile: 2,
        partners: 3,
        collections_per_partner: 1,
        pg_time_series: true,
    }
}

#[derive(Debug, PartialEq, serde::Deserialize, clickhouse::Row)]
struct Growth {
    profile_id: u64,
    start: u64,
    end: u64,
}

async fn october_growth_from_view(client: &clickhouse::Client) -> Vec<Growth> {
    client
        .query(
            "SELECT profile_id, argMinMerge(followers_start) AS start, argMaxMerge(followers_end) AS end FROM profile_monthly_stats \
             WHERE platform = 'instagram' AND month = toDate('2026-10-01') GROUP BY profile_id ORDER BY profile_id",
        )
        .fetch_all()
        .await
        .unwrap()
}

#[tokio::test]
async fn generated_data_loads_into_both_stores_and_feeds_the_monthly_aggregates() {
    let (pg, ch) = (testkit::pg().await, testkit::ch().await);
    let cfg = tiny();
    let mut conn = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
    let report = datagen::load(&cfg, datagen::Targets { pg: Some(&mut conn), ch: Some(&ch.client), progress: false })
        .await
        .unwrap();
    assert_eq!(report.ch_time_series_rows, cfg.time_series_rows());
    assert_eq!(report.pg_time_series_rows, cfg.time_series_rows());

    let pg_rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM social_profile_time_series").fetch_one(&pg.pool).await.unwrap();
    let ch_rows: u64 = ch.client.query("SELECT count() FROM social_profile_time_series").fetch_one().await.unwrap();
    assert_eq!(pg_rows as u64, cfg.time_series_rows());
    assert_eq!(ch_rows, cfg.time_series_rows());
    let profiles: i64 =
        sqlx::query_scalar("SELECT (SELECT count(*) FROM instagram_account) + (SELECT count(*) FROM youtube_account)")
            .fetch_one(&pg.pool)
            .await
            .unwrap();
    assert_eq!(profiles, 12);
    let demo_user: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE email = $1")
        .bind(datagen::DEMO_SAAS_EMAIL)
        .fetch_one(&pg.pool)
        .await
        .unwrap();
    assert_eq!(demo_user, 1);

    // the materialized view's month-end followers equal the raw series' last day of October, per profile
    let from_view = october_growth_from_view(&ch.client).await;
    let from_raw: Vec<Growth> = ch
        .client
        .query(
            "SELECT profile_id, argMin(followers, date) AS start, argMax(followers, date) AS end FROM social_profile_time_series \
             WHERE platform = 'instagram' AND toStartOfMonth(date) = toDate('2026-10-01') GROUP BY profile_id ORDER BY profile_id",
        )
        .fetch_all()
        .await
        .unwrap();
    assert_eq!(from_view.len(), 6);
    assert_eq!(from_view, from_raw);

    // re-loading the same seed into ClickHouse does not change the monthly aggregates
    datagen::load(&cfg, datagen::Targets { pg: None, ch: Some(&ch.client), progress: false }).await.unwrap();
    let again = october_growth_from_view(&ch.client).await;
    assert_eq!(again, from_view);
    let final_rows: u64 =
        ch.client.query("SELECT count() FROM social_profile_time_series FINAL").fetch_one().await.unwrap();
    assert_eq!(final_rows, cfg.time_series_rows(), "reloaded rows collapse by key");
}

#[tokio::test]
async fn a_load_into_a_non_empty_database_is_refused_and_writes_nothing() {
    let pg = testkit::pg().await;
    let mut conn = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
    sqlx::query("INSERT INTO partner (name, slug) VALUES ('x', 'x')").execute(&pg.pool).await.unwrap();
    let err =
        datagen::load(&tiny(), datagen::Targets { pg: Some(&mut conn), ch: None, progress: false }).await.unwrap_err();
    assert!(err.to_string().contains("already holds"), "{err}");
    let profiles: i64 = sqlx::query_scalar("SELECT count(*) FROM instagram_account").fetch_one(&pg.pool).await.unwrap();
    assert_eq!(profiles, 0);
}
