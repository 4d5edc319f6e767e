//! The OpenAPI document covers every API route, and every documented route is served.

const ROUTES: &[(&str, &str)] = &[
    ("get", "/coffee/profiles/{platform}/{id}"),
    ("get", "/coffee/profiles/{platform}/byhandle/{handle}"),
    ("post", "/coffee/profiles/{platform}/search"),
    ("get", "/coffee/collections"),
    ("post", "/coffee/collections"),
    ("get", "/coffee/collections/{id}"),
    ("patch", "/coffee/collections/{id}"),
    ("delete", "/coffee/collections/{id}"),
    ("post", "/coffee/collections/{id}/items"),
    ("delete", "/coffee/collections/{id}/items/{item_id}"),
    ("get", "/coffee/post-collections"),
    ("post", "/coffee/post-collections"),
    ("get", "/coffee/post-collections/{id}"),
    ("patch", "/coffee/post-collections/{id}"),
    ("delete", "/coffee/post-collections/{id}"),
    ("post", "/coffee/post-collections/{id}/items"),
    ("delete", "/coffee/post-collections/{id}/items/{item_id}"),
    ("get", "/coffee/post-collections/{id}/summary"),
    ("post", "/coffee/post-collections/{id}/summary"),
    ("get", "/coffee/leaderboard/{platform}"),
    ("get", "/coffee/analytics/{platform}/{id}/timeseries"),
    ("get", "/coffee/analytics/{platform}/{id}/growth"),
    ("get", "/coffee/analytics/{platform}/compare"),
    ("get", "/coffee/analytics/{platform}/monthly-growth"),
    ("get", "/coffee/usage"),
    ("get", "/coffee/api-keys"),
    ("post", "/coffee/api-keys"),
    ("delete", "/coffee/api-keys/{id}"),
    ("post", "/coffee/api-keys/{id}/rotate"),
    ("post", "/identity/api-keys/verify"),
    ("post", "/identity/login"),
    ("post", "/identity/logout"),
    ("post", "/identity/verify"),
    ("get", "/partners/{id}"),
];

#[test]
fn the_document_lists_exactly_the_api_routes() {
    let doc = serde_json::to_value(coffee::openapi()).unwrap();
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| (m.clone(), path.clone())))
        .collect();
    documented.sort();
    let mut expected: Vec<(String, String)> = ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
    expected.sort();
    assert_eq!(documented, expected);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
}

#[tokio::test]
async fn every_documented_route_is_served_and_the_document_is_published() {
    let app = crate::support::app().await;
    let client = reqwest::Client::new();
    for (method, path) in ROUTES {
        let concrete = path
            .replace("{platform}", "instagram")
            .replace("{handle}", "nobody")
            .replace("{id}", "1")
            .replace("{item_id}", "1");
        let r = client
            .request(method.to_uppercase().parse().unwrap(), format!("{}{concrete}", app.base))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        // unmatched routes answer "no such route"; matched ones answer anything else
        assert!(
            !(status == 404 && body.contains("no such route")) && status != 405,
            "{method} {concrete}: {status} {body}"
        );
    }
    let doc: serde_json::Value =
        reqwest::get(format!("{}/coffee/openapi.json", app.base)).await.unwrap().json().await.unwrap();
    let distinct: std::collections::BTreeSet<&str> = ROUTES.iter().map(|(_, p)| *p).collect();
    assert_eq!(doc["paths"].as_object().unwrap().len(), distinct.len());
    app.stop().await;
}

#[test]
fn paging_bounds_are_documented_as_enforced() {
    let doc = serde_json::to_value(coffee::openapi()).unwrap();
    let props = &doc["components"]["schemas"]["SearchRequest"]["properties"];
    assert_eq!(
        (props["page"]["minimum"].as_f64(), props["page"]["maximum"].as_f64()),
        (Some(1.0), Some(10000.0)),
        "{props}"
    );
    let max = f64::from(coffee::core::dao::MAX_PAGE_SIZE);
    assert_eq!(
        (props["size"]["minimum"].as_f64(), props["size"]["maximum"].as_f64()),
        (Some(1.0), Some(max)),
        "{props}"
    );
}

/// Every error an operation can answer is declared, with the one problem body, and every
/// schema the document references resolves.
#[test]
fn errors_are_declared_as_problems_and_references_resolve() {
    let doc = serde_json::to_value(coffee::openapi()).unwrap();
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            for status in ["401", "429", "500", "503", "504"] {
                let problem = &responses[status]["content"]["application/problem+json"]["schema"]["$ref"];
                assert_eq!(problem, "#/components/schemas/Problem", "{method} {path} {status}");
            }
            if op.get("requestBody").is_some() {
                assert!(responses.contains_key("415") && responses.contains_key("422"), "{method} {path}");
            }
        }
    }
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(doc["components"]["schemas"][name].is_object(), "unresolvable reference to {name}");
    }
}
