//! The partner dashboard in a real browser: Debian's Chromium, driven by playwright-core (the
//! scenarios live with the app, in `dashboard/e2e/`), against this test's own gateway, coffee,
//! beat and provider simulator on the real stores. The app must be built first
//! (`cargo stack test` builds it and installs Chromium; by hand: `npm ci && npm run build` in
//! `dashboard/`). Screenshots go to `target/dashboard-e2e/`.

use std::process::Stdio;

use crate::support::*;

/// Distinct profiles the FREE partner may open in the test, so the quota's 402 is reachable.
const FREE_QUOTA: u32 = 3;

#[tokio::test]
async fn the_dashboard_works_end_to_end_in_chromium() {
    let app = stack::profile::repo_root().join("dashboard");
    let dist = app.join("dist");
    assert!(
        dist.join("index.html").is_file() && app.join("node_modules").is_dir(),
        "the dashboard is not built: run `cargo stack test`, or `npm ci && npm run build` in {}",
        app.display()
    );
    let edge = edge_with(Setup {
        env: vec![("DASHBOARD_DIR", dist.display().to_string())],
        data: datagen::GenConfig {
            seed: 11,
            profiles_per_platform: 40,
            days: 75,
            end_date: chrono::Utc::now().date_naive() - chrono::Days::new(1),
            posts_per_profile: 2,
            partners: 2,
            collections_per_partner: 1,
            pg_time_series: true,
        },
        // one full refresh per handle a minute: the second click is a 429
        beat: Some("daily=20000/1day;calendar,minute=60/1m,handle=1/1m"),
        free_quota: Some(FREE_QUOTA),
        ..Setup::default()
    })
    .await;
    let artifacts = stack::profile::repo_root().join("target/dashboard-e2e");
    std::fs::create_dir_all(&artifacts).unwrap();
    let out = tokio::process::Command::new("npm")
        .args(["run", "--silent", "e2e"])
        .current_dir(&app)
        .env("BASE_URL", &edge.gateway.base_url)
        .env("ARTIFACTS_DIR", &artifacts)
        .env("SAAS_EMAIL", datagen::DEMO_SAAS_EMAIL)
        .env("FREE_EMAIL", datagen::DEMO_FREE_EMAIL)
        .env("PASSWORD", datagen::DEMO_PASSWORD)
        .env("FREE_QUOTA", FREE_QUOTA.to_string())
        .stdin(Stdio::null())
        .output()
        .await
        .expect("npm runs");
    let report = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    edge.stop().await;
    assert!(out.status.success(), "the browser scenarios failed:\n{report}");
    let count = |label: &str| {
        report.lines().find_map(|l| l.strip_prefix(label)).and_then(|n| n.trim().parse::<u32>().ok()).unwrap_or(0)
    };
    assert!(count("# pass ") >= 15, "fewer scenarios passed than the suite has:\n{report}");
    assert_eq!(count("# fail "), 0, "{report}");
}
