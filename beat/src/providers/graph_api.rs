//! Instagram Graph API, Business Discovery (`GET /{ig-user-id}?fields=business_discovery.
//! username(H){…}`): public facts about another business or creator account, seen through our
//! own business account. The credential is `<our ig-user-id>:<access token>`.
//!
//! The Graph API never answers 429: a throttled app or user gets a 400 whose `error.code` is 4,
//! 17, 32, 613 or 80002, and an unknown (or personal, which Meta does not tell apart) account a
//! 400 with code 110 (or 100, subcode 33). Nested media pages with `media.after(cursor)`.

use chrono::{DateTime, Utc};
use domain::{Handle, Platform};
use futures::future::BoxFuture;
use serde::Deserialize;

use super::model::{malformed, need, Post, PostKind};
use super::{answer, Call, Exchange, PostsPage, Profile, Provider, ProviderError};

pub struct GraphApi;

const PROFILE_FIELDS: &str =
    "id,ig_id,username,name,biography,profile_picture_url,followers_count,follows_count,media_count";
const MEDIA_FIELDS: &str = "id,caption,media_type,media_product_type,permalink,timestamp,like_count,comments_count";

#[derive(Deserialize)]
struct Body {
    business_discovery: Option<Discovery>,
}

#[derive(Deserialize)]
struct Discovery {
    ig_id: Option<serde_json::Value>,
    username: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    biography: String,
    profile_picture_url: Option<String>,
    followers_count: Option<u64>,
    follows_count: Option<u64>,
    media_count: Option<u64>,
    media: Option<Media>,
}

#[derive(Deserialize)]
struct Media {
    #[serde(default)]
    data: Vec<MediaItem>,
    paging: Option<Paging>,
}

#[derive(Deserialize)]
struct Paging {
    cursors: Option<Cursors>,
}

#[derive(Deserialize)]
struct Cursors {
    after: Option<String>,
}

#[derive(Deserialize)]
struct MediaItem {
    caption: Option<String>,
    media_type: Option<String>,
    media_product_type: Option<String>,
    permalink: Option<String>,
    timestamp: Option<String>,
    like_count: Option<u64>,
    comments_count: Option<u64>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    code: Option<i64>,
    error_subcode: Option<i64>,
    #[serde(default)]
    message: String,
}

fn credential(call: &Call<'_>) -> Result<(String, String), ProviderError> {
    match call.credential.key().split_once(':') {
        Some((user, token)) if !user.is_empty() && !token.is_empty() => Ok((user.to_owned(), token.to_owned())),
        _ => Err(ProviderError::CredentialRefused("expected <ig-user-id>:<access token>".into())),
    }
}

fn failure(x: &Exchange) -> Option<ProviderError> {
    if (200..300).contains(&x.status) {
        return None;
    }
    if let Ok(ErrorBody { error }) = serde_json::from_slice::<ErrorBody>(&x.body) {
        return Some(match (error.code, error.error_subcode) {
            (Some(4 | 17 | 32 | 613 | 80002), _) => ProviderError::RateLimited { retry_after: x.retry_after },
            (Some(110), _) | (Some(100), Some(33)) => ProviderError::NotFound,
            (Some(190 | 10), _) | (Some(200..=299), _) => ProviderError::CredentialRefused(error.message),
            _ => ProviderError::Unavailable(format!("HTTP {}: {}", x.status, error.message)),
        });
    }
    x.common_failure()
}

/// The Business Discovery request for `handle`'s `fields`, as the credential's account.
fn discovery_request(call: &Call<'_>, handle: &str, fields: &str) -> Result<reqwest::RequestBuilder, ProviderError> {
    let (user, token) = credential(call)?;
    Ok(call
        .http
        .get(call.url(&format!("/{user}")))
        .query(&[("fields", format!("business_discovery.username({handle}){{{fields}}}")), ("access_token", token)]))
}

/// The account in a Business Discovery answer.
fn read_discovery(source: &str, x: &Exchange) -> Result<Discovery, ProviderError> {
    if let Some(e) = failure(x) {
        return Err(e);
    }
    x.json::<Body>(source)?.business_discovery.ok_or(ProviderError::NotFound)
}

impl Provider for GraphApi {
    fn platform(&self) -> Platform {
        Platform::Instagram
    }

    fn profile<'a>(&'a self, call: &'a Call<'a>, handle: &'a Handle) -> BoxFuture<'a, Result<Profile, ProviderError>> {
        Box::pin(async move {
            let req = discovery_request(call, handle.as_str(), PROFILE_FIELDS)?;
            let x = call.send("business_discovery", req).await?;
            self.read_profile(call.name(), &x, handle)
        })
    }

    fn read_profile(&self, source: &str, answer: &Exchange, handle: &Handle) -> Result<Profile, ProviderError> {
        let d = read_discovery(source, answer)?;
        let ig_id = match d.ig_id {
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            Some(serde_json::Value::String(s)) => Some(s),
            _ => None,
        };
        Profile {
            platform: Platform::Instagram,
            external_id: need(source, ig_id, "ig_id")?,
            handle: need(source, d.username, "username")?,
            name: d.name,
            bio: d.biography,
            followers: need(source, d.followers_count, "followers_count")?,
            following: Some(need(source, d.follows_count, "follows_count")?),
            content_count: need(source, d.media_count, "media_count")?,
            total_views: None,
            avatar_url: d.profile_picture_url,
            category: None,
            country: None,
            verified: false,
            // Business Discovery only sees business and creator accounts
            is_business: true,
        }
        .validated(source, handle)
    }

    fn posts<'a>(
        &'a self,
        call: &'a Call<'a>,
        profile: &'a Profile,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<PostsPage, ProviderError>> {
        Box::pin(async move {
            let media = match cursor {
                Some(c) => format!("media.after({c}){{{MEDIA_FIELDS}}}"),
                None => format!("media{{{MEDIA_FIELDS}}}"),
            };
            let req = discovery_request(call, &profile.handle, &media)?;
            let x = call.send("business_discovery.media", req).await?;
            self.read_posts(call.name(), &[x], profile)
        })
    }

    fn read_posts(&self, source: &str, answers: &[Exchange], _profile: &Profile) -> Result<PostsPage, ProviderError> {
        let d = read_discovery(source, answer(answers, 0, "business_discovery.media")?)?;
        let media = need(source, d.media, "media")?;
        let posts = media
            .data
            .into_iter()
            .map(|m| {
                let permalink = need(source, m.permalink, "permalink")?;
                let id = permalink.trim_end_matches('/').rsplit('/').next().unwrap_or_default().to_owned();
                let kind = match (m.media_type.as_deref(), m.media_product_type.as_deref()) {
                    (Some("IMAGE"), _) => PostKind::Image,
                    (Some("CAROUSEL_ALBUM"), _) => PostKind::Carousel,
                    (Some("VIDEO"), Some("REELS")) => PostKind::Reel,
                    (Some("VIDEO"), _) => PostKind::Video,
                    (other, _) => return Err(malformed(source, format!("media_type {other:?}"))),
                };
                let ts = need(source, m.timestamp, "timestamp")?;
                let published_at = DateTime::parse_from_str(&ts, "%Y-%m-%dT%H:%M:%S%z")
                    .map_err(|_| malformed(source, format!("timestamp {ts:?}")))?
                    .with_timezone(&Utc);
                Post {
                    id,
                    kind,
                    published_at,
                    likes: m.like_count.unwrap_or(0),
                    comments: m.comments_count.unwrap_or(0),
                    views: 0,
                    text: m.caption.unwrap_or_default(),
                    duration_seconds: None,
                }
                .validated(source, Platform::Instagram)
            })
            .collect::<Result<_, _>>()?;
        let next = media.paging.and_then(|p| p.cursors).and_then(|c| c.after).filter(|c| !c.is_empty());
        Ok(PostsPage { posts, next })
    }
}
