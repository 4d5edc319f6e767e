//! The task queue's rules on the real Postgres: claim order, duplicates, leases and fencing,
//! retries and deferrals, the reaper, release on shutdown, retention, and concurrent claimers.

use std::collections::HashSet;
use std::time::Duration;

use beat::queue::repo::{self, backoff, Failure, NewTask, TaskStatus};
use domain::Platform;

fn task(target: &str, priority: i16) -> NewTask {
    NewTask {
        flow: "profile_refresh".parse().unwrap(),
        platform: Platform::Instagram,
        target: target.into(),
        priority: Some(priority),
        max_attempts: 3,
        run_after: None,
    }
}

const LEASE: Duration = Duration::from_secs(30);

fn flows() -> Vec<String> {
    vec!["profile_refresh".into()]
}

#[tokio::test]
async fn claims_go_by_priority_then_age() {
    let pg = testkit::pg().await;
    let made = repo::enqueue_many(&pg.pool, &[task("a", 0), task("b", 5), task("c", 0), task("d", 9)]).await.unwrap();
    assert!(made.iter().all(|(_, created)| *created));
    let claimed = repo::claim(&pg.pool, "w1", &flows(), 3, LEASE).await.unwrap();
    let order: Vec<&str> = claimed.iter().map(|t| t.target.as_str()).collect();
    assert_eq!(order, ["d", "b", "a"]);
    assert!(claimed.iter().all(|t| t.status == TaskStatus::Running && t.attempts == 1));
    assert!(
        repo::claim(&pg.pool, "w1", &["posts_refresh".into()], 10, LEASE).await.unwrap().is_empty(),
        "other flows only"
    );
}

#[tokio::test]
async fn a_duplicate_returns_the_open_task_and_can_only_hurry_it() {
    let pg = testkit::pg().await;
    let (first, created) = repo::enqueue(&pg.pool, &task("nasa", 0)).await.unwrap();
    assert!(created);
    let (again, created) = repo::enqueue(&pg.pool, &task("nasa", 7)).await.unwrap();
    assert!(!created);
    assert_eq!(again.id, first.id);
    assert_eq!(again.priority, 7, "the urgent duplicate raises the priority");
    let (lower, _) = repo::enqueue(&pg.pool, &task("nasa", 1)).await.unwrap();
    assert_eq!(lower.priority, 7, "never lowers it");
    // thousands at once, duplicates within the batch counted once
    let batch: Vec<NewTask> = (0..3000).map(|i| task(&format!("h{}", i % 2500), 0)).collect();
    let made = repo::enqueue_many(&pg.pool, &batch).await.unwrap();
    assert_eq!(made.iter().map(|(t, _)| t.id).collect::<HashSet<_>>().len(), 2500);
    let open: i64 = sqlx::query_scalar("SELECT count(*) FROM scrape_task").fetch_one(&pg.pool).await.unwrap();
    assert_eq!(open, 2501);
    // running: left alone, returned as it is
    let running = repo::claim(&pg.pool, "w1", &flows(), 1, LEASE).await.unwrap().remove(0);
    let target = running.target.clone();
    let (dup, created) = repo::enqueue(&pg.pool, &task(&target, 0)).await.unwrap();
    assert!(!created);
    assert_eq!((dup.id, dup.status), (running.id, TaskStatus::Running));
}

#[tokio::test]
async fn retries_back_off_then_fail_and_deferrals_spend_no_attempt() {
    let pg = testkit::pg().await;
    let (t, _) = repo::enqueue(&pg.pool, &task("flaky", 0)).await.unwrap();
    let claim = |w: &'static str| {
        let pool = pg.pool.clone();
        async move {
            sqlx::query("UPDATE scrape_task SET run_after = now()").execute(&pool).await.unwrap();
            repo::claim(&pool, w, &flows(), 1, LEASE).await.unwrap()
        }
    };
    // a deferral (rate limit) puts it back without spending the attempt
    assert_eq!(claim("w").await.len(), 1);
    assert!(repo::fail(
        &pg.pool,
        "w",
        t.id,
        &Failure::Defer { reason: "limit".into(), until: Duration::from_secs(60) }
    )
    .await
    .unwrap());
    let after = repo::get(&pg.pool, t.id).await.unwrap().unwrap();
    assert_eq!((after.status, after.attempts), (TaskStatus::Pending, 0));
    assert!(after.run_after > chrono::Utc::now() + chrono::Duration::seconds(50));
    // three retryable failures: back-off between them, then FAILED with the last error
    for attempt in 1..=3 {
        assert_eq!(claim("w").await.len(), 1, "attempt {attempt}");
        let failure = Failure::Retry { error: format!("HTTP 503 #{attempt}"), backoff: Duration::from_secs(30) };
        assert!(repo::fail(&pg.pool, "w", t.id, &failure).await.unwrap());
    }
    let failed = repo::get(&pg.pool, t.id).await.unwrap().unwrap();
    assert_eq!((failed.status, failed.attempts), (TaskStatus::Failed, 3));
    assert_eq!(failed.last_error.as_deref(), Some("HTTP 503 #3"));
    assert!(failed.finished_at.is_some());
    // a permanent failure ends at once
    let (p, _) = repo::enqueue(&pg.pool, &task("gone", 0)).await.unwrap();
    assert_eq!(claim("w").await.len(), 1);
    assert!(repo::fail(&pg.pool, "w", p.id, &Failure::Permanent { error: "no such creator".into() }).await.unwrap());
    assert_eq!(repo::get(&pg.pool, p.id).await.unwrap().unwrap().status, TaskStatus::Failed);
}

#[test]
fn backoff_grows_is_capped_and_jittered() {
    let (base, cap) = (Duration::from_secs(10), Duration::from_secs(300));
    for _ in 0..100 {
        let first = backoff(1, base, cap);
        assert!(first >= Duration::from_secs_f64(7.5) && first <= Duration::from_secs_f64(12.5), "{first:?}");
        let third = backoff(3, base, cap);
        assert!(third >= Duration::from_secs(30) && third <= Duration::from_secs(50), "{third:?}");
        assert!(backoff(30, base, cap) <= Duration::from_secs(375));
    }
}

#[tokio::test]
async fn a_lost_lease_is_reaped_and_the_late_result_refused() {
    let pg = testkit::pg().await;
    let (t, _) = repo::enqueue(&pg.pool, &task("slow", 0)).await.unwrap();
    let claimed = repo::claim(&pg.pool, "old", &flows(), 1, Duration::from_secs(1)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(repo::heartbeat(&pg.pool, "old", &[t.id], Duration::from_millis(200)).await.unwrap(), vec![t.id]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(repo::reap(&pg.pool).await.unwrap(), vec![t.id]);
    let reclaimed = repo::claim(&pg.pool, "new", &flows(), 1, LEASE).await.unwrap();
    assert_eq!((reclaimed[0].id, reclaimed[0].attempts), (t.id, 2));
    // the old worker wakes up: its heartbeat and its result are refused
    assert!(repo::heartbeat(&pg.pool, "old", &[t.id], LEASE).await.unwrap().is_empty());
    assert!(!repo::complete(&pg.pool, "old", t.id).await.unwrap());
    assert!(!repo::fail(&pg.pool, "old", t.id, &Failure::Permanent { error: "late".into() }).await.unwrap());
    assert!(repo::complete(&pg.pool, "new", t.id).await.unwrap());
    let done = repo::get(&pg.pool, t.id).await.unwrap().unwrap();
    assert_eq!(done.status, TaskStatus::Succeeded);
    assert!(done.finished_at.unwrap() >= done.started_at.unwrap());
}

#[tokio::test]
async fn release_gives_work_back_without_spending_attempts_and_prune_keeps_the_table_small() {
    let pg = testkit::pg().await;
    repo::enqueue_many(&pg.pool, &[task("a", 0), task("b", 0), task("c", 0)]).await.unwrap();
    let claimed = repo::claim(&pg.pool, "stopping", &flows(), 3, LEASE).await.unwrap();
    assert!(repo::complete(&pg.pool, "stopping", claimed[0].id).await.unwrap());
    assert_eq!(repo::release(&pg.pool, "stopping").await.unwrap(), 2);
    let pending: Vec<i32> = sqlx::query_scalar("SELECT attempts FROM scrape_task WHERE status = 'PENDING'")
        .fetch_all(&pg.pool)
        .await
        .unwrap();
    assert_eq!(pending, vec![0, 0]);

    sqlx::query(
        "UPDATE scrape_task SET status = 'SUCCEEDED', lease_until = NULL, locked_by = NULL, finished_at = now()",
    )
    .execute(&pg.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE scrape_task SET finished_at = now() - interval '8 days' WHERE target IN ('a', 'b')")
        .execute(&pg.pool)
        .await
        .unwrap();
    assert_eq!(repo::prune(&pg.pool, Duration::from_secs(7 * 86_400), 1).await.unwrap(), 2);
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM scrape_task").fetch_one(&pg.pool).await.unwrap();
    assert_eq!(left, 1);
}

#[tokio::test]
async fn concurrent_claimers_take_each_task_exactly_once() {
    let pg = testkit::pg().await;
    let batch: Vec<NewTask> = (0..2000).map(|i| task(&format!("h{i}"), (i % 5) as i16)).collect();
    repo::enqueue_many(&pg.pool, &batch).await.unwrap();
    let workers = (0..8).map(|w| {
        let pool = pg.pool.clone();
        tokio::spawn(async move {
            let me = format!("w{w}");
            let mut mine = Vec::new();
            loop {
                let got = repo::claim(&pool, &me, &flows(), 10, LEASE).await.unwrap();
                if got.is_empty() {
                    return mine;
                }
                for t in got {
                    assert!(repo::complete(&pool, &me, t.id).await.unwrap());
                    mine.push(t.id);
                }
            }
        })
    });
    let all: Vec<i64> = futures::future::join_all(workers).await.into_iter().flat_map(|r| r.unwrap()).collect();
    assert_eq!(all.len(), 2000);
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 2000, "no task ran twice");
    let done: i64 = sqlx::query_scalar("SELECT count(*) FROM scrape_task WHERE status = 'SUCCEEDED' AND attempts = 1")
        .fetch_one(&pg.pool)
        .await
        .unwrap();
    assert_eq!(done, 2000);
}

#[tokio::test]
async fn the_request_log_is_pruned_in_batches() {
    let pg = testkit::pg().await;
    sqlx::query(
        "INSERT INTO scrape_request_log (source, endpoint, duration_ms, created_at)
         SELECT 'arraybobo', 'posts', 1, now() - make_interval(days => i % 10) FROM generate_series(1, 500) AS i",
    )
    .execute(&pg.pool)
    .await
    .unwrap();
    let gone = repo::prune_request_log(&pg.pool, Duration::from_secs(7 * 86_400 + 3600), 40).await.unwrap();
    assert_eq!(gone, 100, "days 8 and 9");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM scrape_request_log").fetch_one(&pg.pool).await.unwrap();
    assert_eq!(left, 400);
}

#[tokio::test]
async fn tracked_creators_not_refreshed_for_a_day_are_scheduled_once() {
    let pg = testkit::pg().await;
    sqlx::query(
        "WITH p AS (INSERT INTO partner (name, slug) VALUES ('P', 'p') RETURNING id),
              c AS (INSERT INTO profile_collection (partner_id, name) SELECT id, 'tracked' FROM p RETURNING id),
              a AS (INSERT INTO instagram_account (ig_id, handle, last_scraped_at) VALUES
                        ('1', 'stale', now() - interval '2 days'), ('2', 'fresh', now()), ('3', 'untracked', NULL)
                    RETURNING id, handle)
         INSERT INTO profile_collection_item (collection_id, platform, instagram_account_id)
         SELECT c.id, 'instagram', a.id FROM c, a WHERE a.handle <> 'untracked'",
    )
    .execute(&pg.pool)
    .await
    .unwrap();
    assert_eq!(repo::schedule_stale(&pg.pool, Duration::from_secs(86_400), 100).await.unwrap(), 1);
    assert_eq!(repo::schedule_stale(&pg.pool, Duration::from_secs(86_400), 100).await.unwrap(), 0, "not twice");
    let (flow, target): (String, String) =
        sqlx::query_as("SELECT flow, target FROM scrape_task").fetch_one(&pg.pool).await.unwrap();
    assert_eq!((flow.as_str(), target.as_str()), ("profile_refresh", "stale"));
}
