//! Instagram's private (mobile) API shapes, which several resellers pass through unchanged: the
//! user object (`follower_count`, `following_count`, `media_count`, …) and the feed item
//! (`code`, `taken_at`, `media_type` 1/2/8, `like_count`, …). Shared by the adapters of
//! insta-best-performance, arraybobo and RocketAPI.

use chrono::{TimeZone, Utc};
use domain::{Handle, Platform};
use serde::Deserialize;

use super::model::{malformed, need, Post, PostKind, Profile};
use super::ProviderError;

#[derive(Debug, Deserialize)]
pub(super) struct User {
    pk: Option<serde_json::Value>,
    username: Option<String>,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    biography: String,
    follower_count: Option<u64>,
    following_count: Option<u64>,
    media_count: Option<u64>,
    #[serde(default)]
    is_verified: bool,
    #[serde(default)]
    account_type: Option<u8>,
    #[serde(default)]
    is_business: Option<bool>,
    category: Option<String>,
    hd_profile_pic_url_info: Option<Picture>,
    profile_pic_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Picture {
    url: String,
}

/// Instagram ids arrive as numbers from some resellers and strings from others.
pub(super) fn id_string(v: Option<serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::String(s) => Some(s),
        _ => None,
    }
}

impl User {
    pub(super) fn into_profile(self, source: &str, handle: &Handle) -> Result<Profile, ProviderError> {
        Profile {
            platform: Platform::Instagram,
            external_id: need(source, id_string(self.pk), "pk")?,
            handle: need(source, self.username, "username")?,
            name: self.full_name,
            bio: self.biography,
            followers: need(source, self.follower_count, "follower_count")?,
            following: Some(need(source, self.following_count, "following_count")?),
            content_count: need(source, self.media_count, "media_count")?,
            total_views: None,
            avatar_url: self.hd_profile_pic_url_info.map(|p| p.url).or(self.profile_pic_url),
            category: self.category,
            country: None,
            verified: self.is_verified,
            is_business: self.is_business.unwrap_or(matches!(self.account_type, Some(2 | 3))),
        }
        .validated(source, handle)
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Item {
    code: Option<String>,
    taken_at: Option<i64>,
    media_type: Option<u8>,
    #[serde(default)]
    product_type: Option<String>,
    like_count: Option<u64>,
    comment_count: Option<u64>,
    play_count: Option<u64>,
    view_count: Option<u64>,
    caption: Option<Caption>,
    video_duration: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct Caption {
    #[serde(default)]
    text: String,
}

/// A feed page: items plus the cursor.
#[derive(Debug, Deserialize)]
pub(super) struct Feed {
    #[serde(default)]
    pub items: Vec<Item>,
    #[serde(default)]
    pub more_available: bool,
    pub next_max_id: Option<String>,
}

impl Item {
    pub(super) fn into_post(self, source: &str) -> Result<Post, ProviderError> {
        let kind = match (self.media_type, self.product_type.as_deref()) {
            (Some(1), _) => PostKind::Image,
            (Some(8), _) => PostKind::Carousel,
            (Some(2), Some("clips")) => PostKind::Reel,
            (Some(2), _) => PostKind::Video,
            (other, _) => return Err(malformed(source, format!("media_type {other:?}"))),
        };
        let taken_at = need(source, self.taken_at, "taken_at")?;
        Post {
            id: need(source, self.code, "code")?,
            kind,
            published_at: Utc
                .timestamp_opt(taken_at, 0)
                .single()
                .ok_or_else(|| malformed(source, format!("taken_at {taken_at} is not a time")))?,
            likes: self.like_count.unwrap_or(0),
            comments: self.comment_count.unwrap_or(0),
            views: self.play_count.or(self.view_count).unwrap_or(0),
            text: self.caption.map(|c| c.text).unwrap_or_default(),
            duration_seconds: self.video_duration.map(|d| d.round() as u32),
        }
        .validated(source, Platform::Instagram)
    }
}

impl Feed {
    pub(super) fn into_page(self, source: &str) -> Result<super::PostsPage, ProviderError> {
        let posts = self.items.into_iter().map(|i| i.into_post(source)).collect::<Result<_, _>>()?;
        let next = self.next_max_id.filter(|c| self.more_available && !c.is_empty());
        Ok(super::PostsPage { posts, next })
    }
}
