//! beat's HTTP contract, tested from outside by schemathesis against this test's own beat (its
//! sources at the provider simulator): no 5xx, only documented statuses, responses as
//! documented, invalid input refused; valid input accepted wherever the document can state the
//! rules. Handles follow each platform's own syntax, and a task's flow, platform and target
//! must fit each other: rules across fields that OpenAPI cannot express, so the refresh route
//! and the two task-creating POSTs are held to every check but that one (their rules are tested
//! in `refresh` and `workers`).

use testkit::contract::schemathesis;

use crate::support::world;

#[tokio::test]
async fn generated_requests_meet_the_published_contract() {
    let w = world().await;
    let base = w.beat.base_url.clone();
    let doc = format!("{base}/openapi.json");
    let (ok, report) =
        schemathesis(&doc, &base, &["--checks", "all", "--exclude-checks", "positive_data_acceptance"]).await;
    assert!(ok, "{report}");
    let (ok, report) = schemathesis(
        &doc,
        &base,
        &["--checks", "positive_data_acceptance", "--exclude-path-regex", "/byhandle/", "--exclude-method", "POST"],
    )
    .await;
    assert!(ok, "{report}");
}
