//! The partner API's contract at the edge, tested from outside by schemathesis: requests
//! generated from the gateway's own published document (`/openapi.json`: coffee's and beat's
//! documents joined, with the edge's bearer authentication and answers), sent with a live
//! session through this test's gateway to its coffee and beat (beat's sources at the provider
//! simulator). No 5xx, only documented statuses, answers as documented, invalid input refused,
//! and valid input accepted wherever the document can state the rules: the operations with
//! rules across fields are left out of that one check, as in coffee's and beat's own contract
//! tests (which list why).

use testkit::contract::schemathesis;

use crate::support::*;

/// Operations whose acceptance rules span fields (see coffee's and beat's contract tests).
const CROSS_FIELD_RULES: &str = "/analytics/|/search$|/byhandle/|/leaderboard/|^/identity/|/api-keys$";

#[tokio::test]
async fn generated_requests_through_the_edge_meet_its_published_contract() {
    let edge = edge_with(Setup {
        beat: Some("daily=1000000/1day;calendar,minute=1000000/1m,handle=1000000/1s"),
        ..Setup::default()
    })
    .await;
    let token = edge.login(datagen::DEMO_SAAS_EMAIL).await;
    let bearer = format!("Authorization: Bearer {token}");
    let doc = edge.url("/openapi.json");
    let base = edge.gateway.base_url.clone();
    // a logout would end the session the run uses; it is not a contract about input
    let common = ["-H", bearer.as_str(), "--exclude-path", "/identity/logout"];
    let run = |checks: Vec<&'static str>| {
        let args: Vec<&str> = common.iter().copied().chain(checks).collect();
        let (doc, base) = (doc.clone(), base.clone());
        async move { schemathesis(&doc, &base, &args).await }
    };
    let (ok, report) = run(vec!["--checks", "all", "--exclude-checks", "positive_data_acceptance"]).await;
    assert!(ok, "{report}");
    let (ok, report) =
        run(vec!["--checks", "positive_data_acceptance", "--exclude-path-regex", CROSS_FIELD_RULES]).await;
    assert!(ok, "{report}");
    edge.stop().await;
}
