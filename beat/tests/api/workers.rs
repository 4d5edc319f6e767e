//! The workers on the real stack: woken by NOTIFY, draining on shutdown (in process and on a
//! real SIGTERM), recovering a killed worker's task after its lease, and two processes sharing
//! one queue.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{env_for, workers, world_setup, world_with, World};

async fn task_status(w: &World, id: i64) -> (String, i32) {
    sqlx::query_as("SELECT status, attempts FROM scrape_task WHERE id = $1")
        .bind(id)
        .fetch_one(&w.pg.pool)
        .await
        .unwrap()
}

async fn wait_for(w: &World, id: i64, status: &str, within: Duration) -> (String, i32) {
    let deadline = Instant::now() + within;
    loop {
        let s = task_status(w, id).await;
        if s.0 == status || Instant::now() > deadline {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn enqueue(w: &World, target: &str) -> i64 {
    let resp = w
        .http
        .post(format!("{}/tasks", w.beat.base_url))
        .json(&json!({"flow": "profile_refresh", "platform": "instagram", "target": target}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    resp.json::<serde_json::Value>().await.unwrap()["task"]["id"].as_i64().unwrap()
}

/// beat as a separate OS process reading `config`, killed if the test ends first.
fn spawn_beat(config: &beat::Config) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_beat"))
        .envs(env_for(config))
        .env("PORT", "0")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// The same simulated faults on every Instagram source.
async fn instagram_faults(w: &World, faults: serde_json::Value) {
    for source in ["insta-best-performance", "arraybobo", "rocketapi", "graphapi"] {
        w.faults(source, faults.clone()).await;
    }
}

#[tokio::test]
async fn a_notified_worker_runs_a_new_task_long_before_the_poll() {
    // the poll is a minute: only the notification can wake the worker within the wait below
    let w = world_with(|c| c.workers = Some(workers(Duration::from_secs(60)))).await;
    tokio::time::sleep(Duration::from_millis(300)).await; // the worker is idle and listening
    let id = enqueue(&w, "nasa").await;
    let (status, attempts) = wait_for(&w, id, "SUCCEEDED", Duration::from_secs(20)).await;
    assert_eq!((status.as_str(), attempts), ("SUCCEEDED", 1));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM instagram_account WHERE handle = 'nasa'")
        .fetch_one(&w.pg.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
    let (s, _, t) = w.get(&format!("/tasks/{id}")).await;
    assert_eq!((s, t["status"].as_str()), (200, Some("SUCCEEDED")));
    let (s, _, page) = w.get("/tasks?status=SUCCEEDED&flow=profile_refresh").await;
    assert_eq!((s, page["total"].as_i64()), (200, Some(1)));
}

#[tokio::test]
async fn shutdown_releases_what_did_not_finish_without_spending_its_attempt() {
    let w = world_with(|c| {
        let mut q = workers(Duration::from_secs(1));
        q.drain = Duration::from_millis(300);
        c.workers = Some(q);
    })
    .await;
    instagram_faults(&w, json!({"slow": 1.0, "slow_ms": 1500})).await;
    let id = enqueue(&w, "natgeo").await;
    assert_eq!(wait_for(&w, id, "RUNNING", Duration::from_secs(10)).await.0, "RUNNING");
    let World { beat, pg, .. } = w;
    beat.stop().await;
    let (status, attempts): (String, i32) = sqlx::query_as("SELECT status, attempts FROM scrape_task WHERE id = $1")
        .bind(id)
        .fetch_one(&pg.pool)
        .await
        .unwrap();
    assert_eq!((status.as_str(), attempts), ("PENDING", 0));
}

#[tokio::test]
async fn a_killed_workers_task_is_reclaimed_after_its_lease_and_done_once() {
    // the world's own beat runs no workers; a child process does, and is killed mid-task
    let w = world_with(|_| {}).await;
    instagram_faults(&w, json!({"slow": 1.0, "slow_ms": 5000})).await;
    let mut child_config = crate::support::config(&w.pg, &w.ch, &w.simulator.base_url);
    let mut q = workers(Duration::from_secs(1));
    q.lease = Duration::from_secs(3);
    child_config.workers = Some(q.clone());
    let mut child = spawn_beat(&child_config);
    let id = enqueue(&w, "bbc").await;
    assert_eq!(wait_for(&w, id, "RUNNING", Duration::from_secs(20)).await.0, "RUNNING");
    child.kill().await.unwrap();
    instagram_faults(&w, json!({})).await;
    // a second worker: the reaper returns the task once the dead one's lease runs out
    let config = crate::support::config(&w.pg, &w.ch, &w.simulator.base_url);
    let second = testkit::serve(beat::build(beat::Config { workers: Some(q), ..config }).await.unwrap());
    let (status, attempts) = wait_for(&w, id, "SUCCEEDED", Duration::from_secs(30)).await;
    assert_eq!((status.as_str(), attempts), ("SUCCEEDED", 2));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM instagram_account WHERE handle = 'bbc'")
        .fetch_one(&w.pg.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1, "the killed run wrote nothing");
    second.stop().await;
}

#[tokio::test]
async fn two_processes_drain_two_thousand_tasks_each_exactly_once() {
    let w = world_with(|_| {}).await;
    let tasks: Vec<_> = (0..2000)
        .map(|i| json!({"flow": "profile_refresh", "platform": "instagram", "target": format!("creator_{i}")}))
        .collect();
    let resp =
        w.http.post(format!("{}/tasks/bulk", w.beat.base_url)).json(&json!({"tasks": tasks})).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.json::<serde_json::Value>().await.unwrap()["created"], 2000);
    let mut config = crate::support::config(&w.pg, &w.ch, &w.simulator.base_url);
    config.workers = Some(workers(Duration::from_secs(1)));
    let children: Vec<_> = (0..2).map(|_| spawn_beat(&config)).collect();
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let done: i64 = sqlx::query_scalar("SELECT count(*) FROM scrape_task WHERE status = 'SUCCEEDED'")
            .fetch_one(&w.pg.pool)
            .await
            .unwrap();
        if done == 2000 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (done, once): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE status = 'SUCCEEDED'), count(*) FILTER (WHERE attempts = 1) FROM scrape_task",
    )
    .fetch_one(&w.pg.pool)
    .await
    .unwrap();
    assert_eq!((done, once), (2000, 2000), "every task done, each in one attempt");
    let accounts: i64 =
        sqlx::query_scalar("SELECT count(*) FROM instagram_account").fetch_one(&w.pg.pool).await.unwrap();
    assert_eq!(accounts, 2000);
    drop(children);
}

/// What a run's outcome does to its task: an unknown creator fails at once; a source whose own
/// limit is spent defers the task without spending its attempt; a platform with no usable
/// credential is not claimed at all.
#[tokio::test]
async fn outcomes_fail_defer_or_wait_as_their_cause_says() {
    let limit = "UPDATE scrape_source SET requests = 1, per_seconds = 3600 WHERE source = 'insta-best-performance'";
    let w = world_setup(&[limit], |c| {
        c.sources[0].1.truncate(1); // insta-best-performance only
        c.workers = Some(workers(Duration::from_secs(1)));
    })
    .await;
    let missing = enqueue(&w, "nobody_at_all").await;
    let (status, attempts) = wait_for(&w, missing, "FAILED", Duration::from_secs(20)).await;
    assert_eq!((status.as_str(), attempts), ("FAILED", 1), "an unknown creator is not retried");
    // the source's own limit (1 an hour) was spent by that call: the next task is deferred
    let deferred = enqueue(&w, "natgeo").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let (status, attempts, error, wait): (String, i32, Option<String>, f64) = loop {
        let row: (String, i32, Option<String>, f64) = sqlx::query_as(
            "SELECT status, attempts, last_error, extract(epoch FROM run_after - now())::float8 FROM scrape_task WHERE id = $1",
        )
        .bind(deferred)
        .fetch_one(&w.pg.pool)
        .await
        .unwrap();
        if row.2.is_some() || Instant::now() > deadline {
            break row;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((status.as_str(), attempts), ("PENDING", 0), "{error:?}");
    assert!(wait > 3000.0, "deferred until the limit frees a unit: {wait} s");
    // no usable credential for YouTube: its tasks stay unclaimed
    sqlx::query("UPDATE credential SET enabled = false WHERE source LIKE 'youtube%'")
        .execute(&w.pg.pool)
        .await
        .unwrap();
    let resp = w
        .http
        .post(format!("{}/tasks", w.beat.base_url))
        .json(&json!({"flow": "channel_refresh", "platform": "youtube", "target": "mrbeast"}))
        .send()
        .await
        .unwrap();
    let yt = resp.json::<serde_json::Value>().await.unwrap()["task"]["id"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(task_status(&w, yt).await, ("PENDING".to_owned(), 0));
}

#[tokio::test]
async fn bad_tasks_are_refused_whole() {
    let w = world_with(|_| {}).await;
    let post = |path: &'static str, body: serde_json::Value| {
        let (http, url) = (w.http.clone(), format!("{}{path}", w.beat.base_url));
        async move { http.post(url).json(&body).send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post("/tasks", json!({"flow": "nope", "platform": "instagram", "target": "nasa"})).await, 400);
    assert_eq!(
        post("/tasks", json!({"flow": "channel_refresh", "platform": "instagram", "target": "nasa"})).await,
        400
    );
    assert_eq!(
        post("/tasks", json!({"flow": "profile_refresh", "platform": "instagram", "target": "no-dash"})).await,
        400
    );
    let bulk = json!({"tasks": [
        {"flow": "profile_refresh", "platform": "instagram", "target": "fine"},
        {"flow": "profile_refresh", "platform": "instagram", "target": "not fine"}
    ]});
    assert_eq!(post("/tasks/bulk", bulk).await, 400);
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM scrape_task").fetch_one(&w.pg.pool).await.unwrap();
    assert_eq!(n, 0, "nothing half-written");
    let (status, _, _) = w.get("/tasks/999999").await;
    assert_eq!(status, 404);
    for path in ["/tasks/+1", "/tasks/01"] {
        let (status, _, body) = w.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert!(body["detail"].as_str().unwrap().contains("canonical decimal"), "{path}: {body}");
    }
}

/// Requests that do not parse are problems that say what to fix, like every other error.
#[tokio::test]
async fn unreadable_requests_are_problems() {
    let w = world_with(|_| {}).await;
    let send = |req: reqwest::RequestBuilder| async move {
        let resp = req.send().await.unwrap();
        let (status, ct) = (resp.status().as_u16(), resp.headers()["content-type"].to_str().unwrap().to_owned());
        (status, ct, resp.text().await.unwrap())
    };
    let url = |path: &str| format!("{}{path}", w.beat.base_url);
    for (req, want) in [
        (w.http.post(url("/tasks")).header("content-type", "application/json").body("{\"flow\":"), 400),
        (w.http.post(url("/tasks")).body("flow=x"), 415),
        (w.http.post(url("/tasks")).json(&json!({"flow": 7})), 422),
        (w.http.get(url("/tasks/not-a-number")), 400),
        (w.http.get(url("/tasks?page=many")), 400),
        // a NUL character cannot be a flow (Postgres could not even compare it): found by the
        // gateway's contract test, a 500 before
        (w.http.get(url("/tasks?flow=profile%00refresh")), 400),
        (w.http.get(url("/profiles/instagram/byhandle/nasa?full_refresh=perhaps")), 400),
    ] {
        let (status, ct, body) = send(req).await;
        assert_eq!((status, ct.as_str()), (want, "application/problem+json"), "{body}");
        let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(problem["status"], want, "{problem}");
    }
}

#[tokio::test]
async fn sigterm_drains_then_releases_a_running_task() {
    let w = world_with(|_| {}).await;
    instagram_faults(&w, json!({"slow": 1.0, "slow_ms": 5000})).await;
    let mut config = crate::support::config(&w.pg, &w.ch, &w.simulator.base_url);
    let mut q = workers(Duration::from_secs(1));
    q.drain = Duration::from_secs(1);
    config.workers = Some(q);
    let mut child = spawn_beat(&config);
    let id = enqueue(&w, "cnn").await;
    assert_eq!(wait_for(&w, id, "RUNNING", Duration::from_secs(20)).await.0, "RUNNING");
    let pid = nix::unistd::Pid::from_raw(child.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let exit =
        tokio::time::timeout(Duration::from_secs(15), child.wait()).await.expect("beat stops after its drain").unwrap();
    assert!(exit.success(), "{exit:?}");
    assert_eq!(task_status(&w, id).await, ("PENDING".to_owned(), 0), "released, its attempt not spent");
}
