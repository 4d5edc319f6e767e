//! The HTTP contract, tested from outside by schemathesis (`cargo stack test` installs it and
//! sets `SCHEMATHESIS`) against this test's own coffee: requests generated from the published
//! OpenAPI document, valid and invalid, must get no 5xx, only documented statuses, bodies and
//! headers matching the document, invalid input refused.
//!
//! "Schema-valid requests are accepted" is checked on every operation whose rules the document
//! can state. It is not checked on those with rules across fields, which OpenAPI cannot express:
//! date ranges (`from` not after `to`, a bounded span), the search filter language (which
//! operators and values each field takes), handles (each platform's syntax), leaderboard
//! categories (known slugs), credentials and tokens (`/identity/*`: a made-up password is
//! rightly refused). Those rules have their own tests in this suite.

use std::process::Stdio;

use crate::support::*;

/// Operations whose acceptance rules span fields (see the module docs).
const CROSS_FIELD_RULES: &str = "/analytics/|/search$|/byhandle/|/leaderboard/|^/identity/";

async fn schemathesis(app: &App, extra: &[&str]) -> (bool, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace");
    let st = std::env::var("SCHEMATHESIS")
        .unwrap_or_else(|_| root.join(".stack/tools/schemathesis/bin/st").display().to_string());
    let reports = root.join("target/contract");
    let out = tokio::process::Command::new(&st)
        .args(["--no-color", "run"])
        .arg(format!("{}/coffee/openapi.json", app.base))
        .args(["--url", &app.base])
        .args(["-H", "x-bb-partner-id: 1", "-H", "x-bb-plan-type: SAAS"])
        // logging out would end nothing here, but it is not a contract about input
        .args(["--exclude-path", "/identity/logout"])
        .args(["--max-examples", "25", "--workers", "2", "--phases", "examples,coverage,fuzzing"])
        .args(["--generation-deterministic", "--seed", "20261125"])
        .arg("--report-dir")
        .arg(&reports)
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run schemathesis at {st} ({e}): run `cargo stack test`, which installs it"));
    let text = format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[tokio::test]
async fn generated_requests_meet_the_published_contract() {
    let app = app().await;
    let (ok, report) = schemathesis(&app, &["--checks", "all", "--exclude-checks", "positive_data_acceptance"]).await;
    assert!(ok && report.contains("API Operations"), "{report}");
    let (ok, report) =
        schemathesis(&app, &["--checks", "positive_data_acceptance", "--exclude-path-regex", CROSS_FIELD_RULES]).await;
    assert!(ok && report.contains("API Operations"), "{report}");
    app.stop().await;
}
