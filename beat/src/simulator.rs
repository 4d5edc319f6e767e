//! THE PROVIDER SIMULATOR: a local stand-in for the third-party sources, for the dev stack and
//! the tests only. It is not a provider and serves no real data.
//!
//! One HTTP server answers every adapter's endpoints under `/{source}/…` in that source's JSON
//! shape, with deterministic creators: every handle exists except those starting with
//! `nobody`, and a creator's numbers follow from its handle and grow from day to day, so a
//! refresh on the same day sees the same figures. Each credential key has a quota per window
//! (429 with `Retry-After` past it), and faults can be switched on per source at run time
//! (`POST /_simulator/faults`): 5xx answers, provider throttling, slow answers, answers that
//! never come, malformed bodies. `GET /_simulator/stats` counts requests per source and
//! endpoint.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Datelike, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// What a source does wrong, as probabilities per request (0 = never, 1 = always).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Answer 503.
    pub server_error: f64,
    /// Answer the provider's throttling (429, with `Retry-After: retry_after_secs` when set).
    pub throttle: f64,
    pub retry_after_secs: Option<u64>,
    /// Answer 200 with a body that is not the source's shape.
    pub malformed: f64,
    /// Answer after `slow_ms`.
    pub slow: f64,
    pub slow_ms: u64,
    /// Never answer (the caller's timeout decides).
    pub hang: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Quota {
    pub per_key: u64,
    pub window_secs: u64,
}

#[derive(Default)]
struct Inner {
    faults: HashMap<String, Faults>,
    quota: Option<Quota>,
    used: HashMap<String, (Instant, u64)>,
    stats: HashMap<String, u64>,
    /// Platform ids handed out, back to their handles.
    ids: HashMap<String, String>,
}

#[derive(Clone, Default)]
pub struct Simulator {
    inner: Arc<Mutex<Inner>>,
}

fn hash(parts: &[&str]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in parts {
        p.to_ascii_lowercase().hash(&mut h);
    }
    h.finish()
}

/// A creator as the simulator imagines it on a given day.
struct Creator {
    handle: String,
    ig_id: String,
    channel_id: String,
    followers: u64,
    following: u64,
    posts: u64,
    views: u64,
}

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

fn token(seed: u64, len: usize) -> String {
    let mut x = seed;
    (0..len)
        .map(|_| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ALPHABET[(x >> 58) as usize] as char
        })
        .collect()
}

fn creator(handle: &str) -> Option<Creator> {
    if handle.to_ascii_lowercase().starts_with("nobody") {
        return None;
    }
    let h = hash(&[handle]);
    let day = u64::from(Utc::now().num_days_from_ce().unsigned_abs());
    let base = 1_000 + h % 5_000_000;
    // about 0.1 % growth a day, the same all day long
    let followers = base + base * (day % 3650) / 1000;
    Some(Creator {
        handle: handle.to_owned(),
        ig_id: (1_000_000 + h % 9_000_000_000).to_string(),
        channel_id: format!("UC{}", token(h, 22)),
        followers,
        following: 50 + h % 2_000,
        posts: 20 + h % 900,
        views: followers * 40,
    })
}

/// The creator's `i`-th latest post: (id seed, days ago, likes, comments, views).
fn nth_post(c: &Creator, i: u64) -> (u64, u64, u64, u64, u64) {
    let s = hash(&[&c.handle, &i.to_string()]);
    let likes = c.followers / 50 + s % (c.followers / 20 + 1);
    (s, i * 2 + 1, likes, likes / 30 + s % 50, likes * 8 + s % 1000)
}

impl Simulator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn router(&self) -> Router {
        let alive = || async { Json(json!({"status": "ok", "service": "provider simulator (not a real provider)"})) };
        Router::new()
            .route("/health", get(alive))
            .route("/ready", get(alive))
            .route("/_simulator/faults/{source}", post(set_faults))
            .route("/_simulator/quota", post(set_quota))
            .route("/_simulator/stats", get(stats))
            .route("/_simulator/reset", post(reset))
            .route("/insta-best-performance/profile", get(best_profile))
            .route("/insta-best-performance/feed", get(best_feed))
            .route("/arraybobo/ig/info_username/", get(arraybobo_profile))
            .route("/arraybobo/ig/posts/", get(arraybobo_posts))
            .route("/rocketapi/instagram/user/get_info", post(rocket_profile))
            .route("/rocketapi/instagram/user/get_media", post(rocket_media))
            .route("/graphapi/{user}", get(graph))
            .route("/youtube138/channel/details/", get(yt138_channel))
            .route("/youtube138/channel/videos/", get(yt138_videos))
            .route("/youtube138/video/details/", get(yt138_video))
            .route("/{source}/channels", get(ytd_channels))
            .route("/{source}/playlistItems", get(ytd_playlist))
            .route("/{source}/videos", get(ytd_videos))
            .with_state(self.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn remember(&self, id: &str, handle: &str) {
        self.lock().ids.insert(id.to_owned(), handle.to_owned());
    }

    fn handle_of(&self, id: &str) -> Option<String> {
        self.lock().ids.get(id).cloned()
    }

    /// Counts the request, checks its key's quota, and plays the source's faults: `Err` is the
    /// answer to send instead of the real one, `Ok(true)` asks for a malformed body.
    async fn gate(&self, source: &str, endpoint: &str, key: Option<&str>) -> Result<bool, Response> {
        let (faults, over_quota) = {
            let mut inner = self.lock();
            *inner.stats.entry(format!("{source} {endpoint}")).or_default() += 1;
            let Some(key) = key.filter(|k| !k.is_empty()) else {
                return Err((StatusCode::UNAUTHORIZED, Json(json!({"message": "Invalid API key."}))).into_response());
            };
            let over = match inner.quota.clone() {
                Some(q) => {
                    let now = Instant::now();
                    let window = Duration::from_secs(q.window_secs.max(1));
                    let entry = inner.used.entry(format!("{source}|{key}")).or_insert((now, 0));
                    if now.duration_since(entry.0) >= window {
                        *entry = (now, 0);
                    }
                    entry.1 += 1;
                    (entry.1 > q.per_key).then(|| (window - now.duration_since(entry.0)).as_secs().max(1))
                }
                None => None,
            };
            (inner.faults.get(source).cloned().unwrap_or_default(), over)
        };
        if let Some(wait) = over_quota {
            return Err(throttled(source, Some(wait)));
        }
        let roll = |p: f64| p > 0.0 && rand::random::<f64>() < p;
        if roll(faults.hang) {
            std::future::pending::<()>().await;
        }
        if roll(faults.slow) {
            tokio::time::sleep(Duration::from_millis(faults.slow_ms)).await;
        }
        if roll(faults.server_error) {
            return Err((StatusCode::SERVICE_UNAVAILABLE, "upstream unavailable (simulated)").into_response());
        }
        if roll(faults.throttle) {
            return Err(throttled(source, faults.retry_after_secs));
        }
        Ok(roll(faults.malformed))
    }
}

/// Each provider's way of saying "slow down".
fn throttled(source: &str, retry_after: Option<u64>) -> Response {
    let mut headers = HeaderMap::new();
    if let Some(s) = retry_after {
        headers.insert("retry-after", s.into());
    }
    match source {
        "graphapi" => (
            StatusCode::BAD_REQUEST,
            headers,
            Json(json!({"error": {"message": "(#4) Application request limit reached", "type": "OAuthException", "code": 4}})),
        )
            .into_response(),
        "youtube-data-api" => (
            StatusCode::FORBIDDEN,
            headers,
            Json(json!({"error": {"code": 403, "message": "quota exceeded", "errors": [{"reason": "quotaExceeded", "domain": "youtube.quota"}]}})),
        )
            .into_response(),
        _ => (StatusCode::TOO_MANY_REQUESTS, headers, Json(json!({"message": "Too many requests"}))).into_response(),
    }
}

fn rapidapi_key(h: &HeaderMap) -> Option<&str> {
    h.get("x-rapidapi-key").and_then(|v| v.to_str().ok())
}

fn malformed() -> Response {
    (StatusCode::OK, [("content-type", "application/json")], "{\"this is\": not json").into_response()
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({"message": "not found"}))).into_response()
}

macro_rules! gate {
    ($sim:expr, $source:expr, $endpoint:expr, $key:expr) => {
        match $sim.gate($source, $endpoint, $key).await {
            Ok(true) => return malformed(),
            Ok(false) => {}
            Err(answer) => return answer,
        }
    };
}

async fn set_faults(State(sim): State<Simulator>, Path(source): Path<String>, Json(f): Json<Faults>) -> StatusCode {
    tracing::warn!(%source, faults = ?f, "PROVIDER SIMULATOR: faults set");
    sim.lock().faults.insert(source, f);
    StatusCode::NO_CONTENT
}

async fn set_quota(State(sim): State<Simulator>, Json(q): Json<Quota>) -> StatusCode {
    let mut inner = sim.lock();
    inner.quota = Some(q);
    inner.used.clear();
    StatusCode::NO_CONTENT
}

async fn reset(State(sim): State<Simulator>) -> StatusCode {
    let mut inner = sim.lock();
    inner.faults.clear();
    inner.quota = None;
    inner.used.clear();
    inner.stats.clear();
    StatusCode::NO_CONTENT
}

async fn stats(State(sim): State<Simulator>) -> Json<HashMap<String, u64>> {
    Json(sim.lock().stats.clone())
}

#[derive(Deserialize)]
#[serde(transparent)]
struct Params(HashMap<String, String>);

impl Params {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }
}

fn private_user(c: &Creator) -> Value {
    json!({
        "pk": c.ig_id.parse::<u64>().unwrap_or_default(), "username": c.handle, "full_name": format!("{} (simulated)", c.handle),
        "biography": "A creator made up by the provider simulator.", "follower_count": c.followers,
        "following_count": c.following, "media_count": c.posts, "is_private": false, "is_verified": c.followers > 1_000_000,
        "account_type": 3, "category": "Creator",
        "hd_profile_pic_url_info": {"url": format!("https://simulator.invalid/{}.jpg", c.handle)}
    })
}

fn feed_page(c: &Creator, cursor: Option<&str>) -> Value {
    let start: u64 = cursor.and_then(|s| s.parse().ok()).unwrap_or(0);
    let items: Vec<Value> = (start..start + 12)
        .map(|i| {
            let (s, days, likes, comments, views) = nth_post(c, i);
            let reel = s % 3 == 0;
            json!({
                "code": token(s, 11), "pk": s.to_string(), "taken_at": Utc::now().timestamp() - (days * 86_400) as i64,
                "media_type": if reel { 2 } else if s % 3 == 1 { 8 } else { 1 },
                "product_type": if reel { "clips" } else { "feed" },
                "like_count": likes, "comment_count": comments, "play_count": if reel { views } else { 0 },
                "caption": {"text": format!("post {i} of {}", c.handle)}
            })
        })
        .collect();
    json!({"items": items, "more_available": start + 12 < c.posts, "next_max_id": (start + 12).to_string()})
}

async fn best_profile(State(sim): State<Simulator>, headers: HeaderMap, Query(q): Query<Params>) -> Response {
    gate!(sim, "insta-best-performance", "profile", rapidapi_key(&headers));
    let Some(c) = q.get("username").and_then(creator) else { return not_found() };
    sim.remember(&c.ig_id, &c.handle);
    Json(private_user(&c)).into_response()
}

async fn best_feed(State(sim): State<Simulator>, headers: HeaderMap, Query(q): Query<Params>) -> Response {
    gate!(sim, "insta-best-performance", "feed", rapidapi_key(&headers));
    let Some(c) = q.get("user_id").and_then(|id| sim.handle_of(id)).and_then(|h| creator(&h)) else {
        return not_found();
    };
    Json(feed_page(&c, q.get("next_max_id"))).into_response()
}

async fn arraybobo_profile(State(sim): State<Simulator>, headers: HeaderMap, Query(q): Query<Params>) -> Response {
    gate!(sim, "arraybobo", "info_username", rapidapi_key(&headers));
    let Some(c) = q.get("user").and_then(creator) else { return not_found() };
    sim.remember(&c.ig_id, &c.handle);
    Json(json!({"user": private_user(&c)})).into_response()
}

fn timeline(c: &Creator, cursor: Option<&str>) -> Value {
    let start: u64 = cursor.and_then(|s| s.parse().ok()).unwrap_or(0);
    let edges: Vec<Value> = (start..start + 12)
        .map(|i| {
            let (s, days, likes, comments, views) = nth_post(c, i);
            let kind = ["GraphVideo", "GraphSidecar", "GraphImage"][(s % 3) as usize];
            json!({"node": {
                "id": s.to_string(), "shortcode": token(s, 11), "__typename": kind,
                "product_type": if kind == "GraphVideo" { "clips" } else { "feed" },
                "taken_at_timestamp": Utc::now().timestamp() - (days * 86_400) as i64,
                "edge_media_to_comment": {"count": comments}, "edge_media_preview_like": {"count": likes},
                "video_view_count": if kind == "GraphVideo" { Some(views) } else { None },
                "edge_media_to_caption": {"edges": [{"node": {"text": format!("post {i} of {}", c.handle)}}]}
            }})
        })
        .collect();
    json!({"count": c.posts, "page_info": {"has_next_page": start + 12 < c.posts, "end_cursor": (start + 12).to_string()}, "edges": edges})
}

async fn arraybobo_posts(State(sim): State<Simulator>, headers: HeaderMap, Query(q): Query<Params>) -> Response {
    gate!(sim, "arraybobo", "posts", rapidapi_key(&headers));
    let Some(c) = q.get("id_user").and_then(|id| sim.handle_of(id)).and_then(|h| creator(&h)) else {
        return not_found();
    };
    Json(json!({"data": {"user": {"edge_owner_to_timeline_media": timeline(&c, q.get("end_cursor"))}}})).into_response()
}

fn rocket_key(h: &HeaderMap) -> Option<&str> {
    h.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Token "))
}

fn rocket(status_code: u16, body: Value) -> Response {
    Json(json!({"status": "done", "response": {"status_code": status_code, "content_type": "application/json", "body": body}}))
        .into_response()
}

async fn rocket_profile(State(sim): State<Simulator>, headers: HeaderMap, Json(req): Json<Value>) -> Response {
    gate!(sim, "rocketapi", "user/get_info", rocket_key(&headers));
    let Some(c) = req["username"].as_str().and_then(creator) else { return rocket(404, json!({"status": "fail"})) };
    sim.remember(&c.ig_id, &c.handle);
    rocket(
        200,
        json!({"status": "ok", "data": {"user": {
            "id": c.ig_id, "username": c.handle, "full_name": format!("{} (simulated)", c.handle),
            "biography": "A creator made up by the provider simulator.",
            "edge_followed_by": {"count": c.followers}, "edge_follow": {"count": c.following},
            "edge_owner_to_timeline_media": timeline(&c, None), "is_verified": c.followers > 1_000_000,
            "is_business_account": true, "category_name": "Creator",
            "profile_pic_url_hd": format!("https://simulator.invalid/{}.jpg", c.handle)
        }}}),
    )
}

async fn rocket_media(State(sim): State<Simulator>, headers: HeaderMap, Json(req): Json<Value>) -> Response {
    gate!(sim, "rocketapi", "user/get_media", rocket_key(&headers));
    let id = req["id"].as_u64().map(|n| n.to_string()).unwrap_or_default();
    let Some(c) = sim.handle_of(&id).and_then(|h| creator(&h)) else { return rocket(404, json!({"status": "fail"})) };
    let mut page = feed_page(&c, req["max_id"].as_str());
    page["status"] = json!("ok");
    rocket(200, page)
}

/// `business_discovery.username(H){…media.after(C){…}…}`: the handle and the cursor.
fn discovery_args(fields: &str) -> (Option<String>, Option<String>, bool) {
    let inner = |after: &str| after.split_once(')').map(|(v, _)| v.to_owned());
    let handle = fields.split_once("username(").and_then(|(_, rest)| inner(rest));
    let cursor = fields.split_once("media.after(").and_then(|(_, rest)| inner(rest));
    (handle, cursor, fields.contains("media"))
}

async fn graph(State(sim): State<Simulator>, Path(_user): Path<String>, Query(q): Query<Params>) -> Response {
    gate!(sim, "graphapi", "business_discovery", q.get("access_token"));
    let (handle, cursor, media) = discovery_args(q.get("fields").unwrap_or_default());
    let Some(c) = handle.as_deref().and_then(creator) else {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": {"message": "Invalid user id", "type": "OAuthException", "code": 110, "error_subcode": 2207013}})),
        )
            .into_response();
    };
    let mut d = json!({
        "id": format!("1784{}", c.ig_id), "ig_id": c.ig_id.parse::<u64>().unwrap_or_default(), "username": c.handle,
        "name": format!("{} (simulated)", c.handle), "biography": "A creator made up by the provider simulator.",
        "profile_picture_url": format!("https://simulator.invalid/{}.jpg", c.handle),
        "followers_count": c.followers, "follows_count": c.following, "media_count": c.posts
    });
    if media {
        let start: u64 = cursor.as_deref().and_then(|s| s.parse().ok()).unwrap_or(0);
        let data: Vec<Value> = (start..start + 25)
            .map(|i| {
                let (s, days, likes, comments, _) = nth_post(&c, i);
                let at = Utc.timestamp_opt(Utc::now().timestamp() - (days * 86_400) as i64, 0).single().unwrap_or_default();
                let media_type = ["VIDEO", "CAROUSEL_ALBUM", "IMAGE"][(s % 3) as usize];
                json!({"id": s.to_string(), "caption": format!("post {i}"), "media_type": media_type,
                       "media_product_type": if s % 3 == 0 { "REELS" } else { "FEED" },
                       "permalink": format!("https://www.instagram.com/p/{}/", token(s, 11)),
                       "timestamp": at.format("%Y-%m-%dT%H:%M:%S%z").to_string(), "like_count": likes, "comments_count": comments})
            })
            .collect();
        d["media"] = json!({"data": data, "paging": {"cursors": {"after": (start + 25).to_string()}}});
    }
    Json(json!({"business_discovery": d, "id": "17841405309211844"})).into_response()
}

async fn yt138_channel(State(sim): State<Simulator>, headers: HeaderMap, Query(q): Query<Params>) -> Response {
    gate!(sim, "youtube138", "channel/details", rapidapi_key(&headers));
    let Some(c) = q.get("id").map(|h| h.trim_start_matches('@')).and_then(creator) else { return not_found() };
    sim.remember(&c.channel_id, &c.handle);
    Json(json!({
        "channelId": c.channel_id, "title": format!("{} (simulated)", c.handle), "username": format!("@{}", c.handle),
        "description": "A channel made up by the provider simulator.", "country": "IN",
        "avatar": [{"height": 88, "width": 88, "url": format!("https://simulator.invalid/{}-88.jpg", c.handle)},
                   {"height": 176, "width": 176, "url": format!("https://simulator.invalid/{}-176.jpg", c.handle)}],
        "badges": if c.followers > 1_000_000 { json!([{"text": "Verified", "type": "VERIFIED_CHANNEL"}]) } else { json!([]) },
        "stats": {"subscribers": c.followers, "videos": c.posts, "views": c.views}
    }))
    .into_response()
}

fn video_id(s: u64) -> String {
    token(s, 11)
}

async fn yt138_videos(State(sim): State<Simulator>, headers: HeaderMap, Query(q): Query<Params>) -> Response {
    gate!(sim, "youtube138", "channel/videos", rapidapi_key(&headers));
    let Some(handle) = q.get("id").and_then(|id| sim.handle_of(id)) else { return not_found() };
    let Some(c) = creator(&handle) else { return not_found() };
    let start: u64 = q.get("cursor").and_then(|s| s.parse().ok()).unwrap_or(0);
    let contents: Vec<Value> = (start..start + 10)
        .map(|i| {
            let (s, _, _, _, views) = nth_post(&c, i);
            sim.remember(&video_id(s), &format!("{handle}#{i}"));
            json!({"type": "video", "video": {"videoId": video_id(s), "title": format!("video {i}"), "lengthSeconds": 60 + s % 900,
                   "publishedTimeText": "2 days ago", "stats": {"views": views}}})
        })
        .collect();
    Json(json!({"contents": contents, "cursorNext": (start + 10).to_string()})).into_response()
}

async fn yt138_video(State(sim): State<Simulator>, headers: HeaderMap, Query(q): Query<Params>) -> Response {
    gate!(sim, "youtube138", "video/details", rapidapi_key(&headers));
    let Some((handle, i)) = q.get("id").and_then(|id| sim.handle_of(id)).and_then(|k| {
        let (h, i) = k.split_once('#')?;
        Some((h.to_owned(), i.parse::<u64>().ok()?))
    }) else {
        return not_found();
    };
    let Some(c) = creator(&handle) else { return not_found() };
    let (s, days, likes, comments, views) = nth_post(&c, i);
    let at = Utc.timestamp_opt(Utc::now().timestamp() - (days * 86_400) as i64, 0).single().unwrap_or_default();
    Json(json!({"videoId": video_id(s), "title": format!("video {i}"), "lengthSeconds": 60 + s % 900,
                "stats": {"views": views, "likes": likes, "comments": comments}, "date": {"published": at.to_rfc3339()}}))
    .into_response()
}

fn ytd_key<'a>(source: &str, headers: &'a HeaderMap, q: &'a Params) -> Option<&'a str> {
    if source == "youtube-data-api" {
        q.get("key")
    } else {
        rapidapi_key(headers)
    }
}

async fn ytd_channels(
    State(sim): State<Simulator>,
    Path(source): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    gate!(sim, &source, "channels", ytd_key(&source, &headers, &q));
    let Some(c) = q.get("forHandle").map(|h| h.trim_start_matches('@')).and_then(creator) else {
        return Json(
            json!({"kind": "youtube#channelListResponse", "pageInfo": {"totalResults": 0, "resultsPerPage": 5}}),
        )
        .into_response();
    };
    sim.remember(&c.channel_id, &c.handle);
    Json(json!({"kind": "youtube#channelListResponse", "items": [{
        "kind": "youtube#channel", "id": c.channel_id,
        "snippet": {"title": format!("{} (simulated)", c.handle), "description": "A channel made up by the provider simulator.",
                    "customUrl": format!("@{}", c.handle.to_ascii_lowercase()), "country": "IN",
                    "thumbnails": {"high": {"url": format!("https://simulator.invalid/{}-800.jpg", c.handle)}}},
        "statistics": {"viewCount": c.views.to_string(), "subscriberCount": c.followers.to_string(),
                       "hiddenSubscriberCount": false, "videoCount": c.posts.to_string()}
    }]}))
    .into_response()
}

async fn ytd_playlist(
    State(sim): State<Simulator>,
    Path(source): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    gate!(sim, &source, "playlistItems", ytd_key(&source, &headers, &q));
    let channel = q.get("playlistId").map(|p| format!("UC{}", p.trim_start_matches("UU"))).unwrap_or_default();
    let Some(handle) = sim.handle_of(&channel) else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"error": {"code": 404, "errors": [{"reason": "playlistNotFound"}]}})),
        )
            .into_response();
    };
    let Some(c) = creator(&handle) else { return not_found() };
    let start: u64 = q.get("pageToken").and_then(|s| s.parse().ok()).unwrap_or(0);
    let items: Vec<Value> = (start..start + 10)
        .map(|i| {
            let (s, ..) = nth_post(&c, i);
            sim.remember(&video_id(s), &format!("{handle}#{i}"));
            json!({"kind": "youtube#playlistItem", "contentDetails": {"videoId": video_id(s)}})
        })
        .collect();
    Json(json!({"kind": "youtube#playlistItemListResponse", "items": items, "nextPageToken": (start + 10).to_string()}))
        .into_response()
}

async fn ytd_videos(
    State(sim): State<Simulator>,
    Path(source): Path<String>,
    headers: HeaderMap,
    Query(q): Query<Params>,
) -> Response {
    gate!(sim, &source, "videos", ytd_key(&source, &headers, &q));
    let items: Vec<Value> = q
        .get("id")
        .unwrap_or_default()
        .split(',')
        .filter_map(|id| {
            let key = sim.handle_of(id)?;
            let (handle, i) = key.split_once('#')?;
            let c = creator(handle)?;
            let (s, days, likes, comments, views) = nth_post(&c, i.parse().ok()?);
            let at = Utc.timestamp_opt(Utc::now().timestamp() - (days * 86_400) as i64, 0).single()?;
            Some(json!({"kind": "youtube#video", "id": video_id(s),
                "snippet": {"publishedAt": at.format("%Y-%m-%dT%H:%M:%SZ").to_string(), "title": format!("video {i}")},
                "contentDetails": {"duration": format!("PT{}M{}S", (60 + s % 900) / 60, (60 + s % 900) % 60)},
                "statistics": {"viewCount": views.to_string(), "likeCount": likes.to_string(), "commentCount": comments.to_string()}}))
        })
        .collect();
    Json(json!({"kind": "youtube#videoListResponse", "items": items})).into_response()
}
