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
//! rightly refused), a new API key's expiry (it must lie in the future: a rule against the clock). Those rules have their own tests in this suite.

use testkit::contract::schemathesis;

use crate::support::*;

/// Operations whose acceptance rules span fields (see the module docs).
const CROSS_FIELD_RULES: &str = "/analytics/|/search$|/byhandle/|/leaderboard/|^/identity/|/api-keys$";

async fn run(app: &App, checks: &[&str]) -> (bool, String) {
    let doc = format!("{}/coffee/openapi.json", app.base);
    let tenant = ["-H", "x-bb-partner-id: 1", "-H", "x-bb-plan-type: SAAS"];
    // a logout ends nothing here, and it is not a contract about input
    let args: Vec<&str> = tenant.iter().chain(&["--exclude-path", "/identity/logout"]).chain(checks).copied().collect();
    schemathesis(&doc, &app.base, &args).await
}

#[tokio::test]
async fn generated_requests_meet_the_published_contract() {
    let app = app().await;
    let (ok, report) = run(&app, &["--checks", "all", "--exclude-checks", "positive_data_acceptance"]).await;
    assert!(ok, "{report}");
    let (ok, report) =
        run(&app, &["--checks", "positive_data_acceptance", "--exclude-path-regex", CROSS_FIELD_RULES]).await;
    assert!(ok, "{report}");
    app.stop().await;
}
