//! The dashboard's files from the gateway's origin: hashed assets cached for good and
//! precompressed, pages revalidated and under a strict CSP, history-API paths answered with
//! the app's page, while API clients and the modules keep their own answers.

use reqwest::header;

use crate::support::*;

const GZ_TWIN: &[u8] = b"\x1f\x8b gzip twin";

/// A built dashboard in miniature: a page, a hashed script with its gzip twin, a plain file.
fn built_dashboard() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("assets")).unwrap();
    std::fs::write(dir.path().join("index.html"), "<!doctype html><title>bulbul</title>").unwrap();
    std::fs::write(dir.path().join("assets/app-3f2a1b.js"), "console.log('bulbul')").unwrap();
    // the twin is served as stored, so any bytes tell which file was sent
    std::fs::write(dir.path().join("assets/app-3f2a1b.js.gz"), GZ_TWIN).unwrap();
    std::fs::write(dir.path().join("favicon.svg"), "<svg/>").unwrap();
    dir
}

async fn edge_serving(dir: &tempfile::TempDir) -> Edge {
    edge_with(Setup { env: vec![("DASHBOARD_DIR", dir.path().display().to_string())], ..Setup::default() }).await
}

#[tokio::test]
async fn the_page_is_revalidated_and_under_a_strict_policy() {
    let dir = built_dashboard();
    let edge = edge_serving(&dir).await;
    let resp = edge.http.get(edge.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-cache");
    assert_eq!(resp.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    let csp = resp.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(resp.text().await.unwrap().contains("<title>bulbul</title>"));
    // a plain file beside the page is revalidated too (its name does not change between builds)
    let resp = edge.http.get(edge.url("/favicon.svg")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-cache");
    edge.stop().await;
}

#[tokio::test]
async fn hashed_assets_are_immutable_and_sent_precompressed() {
    let dir = built_dashboard();
    let edge = edge_serving(&dir).await;
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let resp = raw.get(edge.url("/assets/app-3f2a1b.js")).header(header::ACCEPT_ENCODING, "gzip").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[header::CACHE_CONTROL], "public, max-age=31536000, immutable");
    assert_eq!(resp.headers()[header::CONTENT_ENCODING], "gzip");
    // a shared cache keeps one copy per encoding
    let vary: Vec<&str> = resp.headers().get_all(header::VARY).iter().filter_map(|v| v.to_str().ok()).collect();
    assert!(vary.iter().any(|v| v.contains("accept-encoding")), "{vary:?}");
    assert!(resp.headers()[header::CONTENT_TYPE].to_str().unwrap().contains("javascript"));
    assert_eq!(&resp.bytes().await.unwrap()[..], GZ_TWIN);
    // without gzip accepted, the plain file
    let resp = raw.get(edge.url("/assets/app-3f2a1b.js")).send().await.unwrap();
    assert!(resp.headers().get(header::CONTENT_ENCODING).is_none());
    assert_eq!(resp.text().await.unwrap(), "console.log('bulbul')");
    // a missing asset is a 404 that no cache keeps
    let resp = raw.get(edge.url("/assets/app-000000.js")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_ne!(
        resp.headers().get(header::CACHE_CONTROL).map(|v| v.to_str().unwrap()),
        Some("public, max-age=31536000, immutable")
    );
    edge.stop().await;
}

#[tokio::test]
async fn navigations_get_the_page_and_api_clients_keep_their_answers() {
    let dir = built_dashboard();
    let edge = edge_serving(&dir).await;
    let page = |path: &str| edge.http.get(edge.url(path)).header(header::ACCEPT, "text/html,application/xhtml+xml");
    // a reload of an app route
    let resp = page("/p/instagram/12?range=90d").send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-cache");
    assert!(resp.text().await.unwrap().contains("<title>bulbul</title>"));
    // the same path from an API client is still a problem
    let resp =
        edge.http.get(edge.url("/p/instagram/12")).header(header::ACCEPT, "application/json").send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/problem+json");
    // a write to an unknown path is a 404 problem, not the page
    let resp = edge.http.post(edge.url("/p/instagram/12")).header(header::ACCEPT, "text/html").send().await.unwrap();
    assert_eq!(resp.status(), 404);
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "application/problem+json");
    // modules still authenticate, even for a browser navigation
    let resp = page("/coffee/usage").send().await.unwrap();
    assert_eq!(resp.status(), 401);
    edge.stop().await;
}

#[tokio::test]
async fn without_a_dashboard_the_root_is_a_404_and_a_missing_build_stops_the_start() {
    let edge = edge().await;
    let resp = edge.http.get(edge.url("/")).header(header::ACCEPT, "text/html").send().await.unwrap();
    assert_eq!(resp.status(), 404);
    edge.stop().await;
    let empty = tempfile::tempdir().unwrap();
    let err = gateway::Config::from_env(platform::config::Env::from_pairs([
        ("HMAC_SECRET", HMAC_SECRET),
        ("DASHBOARD_DIR", empty.path().to_str().unwrap()),
    ]))
    .unwrap_err()
    .to_string();
    assert!(err.contains("DASHBOARD_DIR") && err.contains("index.html"), "{err}");
}
