//! The one shape every source's payload is turned into. Constructors validate what the stores
//! require (ids in the platforms' formats, counts present), so a payload that parses but is
//! partial or wrong fails here with a reason, before anything is written.

use chrono::{DateTime, Utc};
use domain::{Handle, Platform};
use serde::Serialize;

use super::ProviderError;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    pub platform: Platform,
    /// The platform's own id: Instagram's numeric user id, YouTube's `UC…` channel id.
    pub external_id: String,
    pub handle: String,
    pub name: String,
    pub bio: String,
    /// Followers (Instagram) or subscribers (YouTube).
    pub followers: u64,
    /// Accounts followed (Instagram only).
    pub following: Option<u64>,
    /// Posts (Instagram) or videos (YouTube).
    pub content_count: u64,
    /// Channel views (YouTube only).
    pub total_views: Option<u64>,
    pub avatar_url: Option<String>,
    pub category: Option<String>,
    /// ISO 3166 alpha-2, upper case; anything else is dropped.
    pub country: Option<String>,
    pub verified: bool,
    pub is_business: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PostKind {
    Image,
    Carousel,
    Reel,
    Video,
}

impl PostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "IMAGE",
            Self::Carousel => "CAROUSEL",
            Self::Reel => "REEL",
            Self::Video => "VIDEO",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Post {
    /// Instagram's shortcode or YouTube's 11-character video id.
    pub id: String,
    pub kind: PostKind,
    pub published_at: DateTime<Utc>,
    pub likes: u64,
    pub comments: u64,
    pub views: u64,
    /// Caption (Instagram) or title (YouTube).
    pub text: String,
    pub duration_seconds: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PostsPage {
    pub posts: Vec<Post>,
    /// Pass back to get the next page; `None` on the last.
    pub next: Option<String>,
}

pub(crate) fn malformed(source: &str, what: impl std::fmt::Display) -> ProviderError {
    ProviderError::Malformed(format!("{source}: {what}"))
}

/// A required field, or a reason.
pub(crate) fn need<T>(source: &str, value: Option<T>, field: &str) -> Result<T, ProviderError> {
    value.ok_or_else(|| malformed(source, format!("{field} is missing")))
}

/// YouTube sends counts as decimal strings.
pub(crate) fn count(source: &str, value: Option<&str>, field: &str) -> Result<u64, ProviderError> {
    need(source, value, field)?.parse().map_err(|_| malformed(source, format!("{field} is not a count")))
}

fn is_token(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl Profile {
    /// Checks a profile a source built for `requested`.
    pub(crate) fn validated(mut self, source: &str, requested: &Handle) -> Result<Self, ProviderError> {
        if !requested.eq_ignore_case(&self.handle) {
            return Err(malformed(source, format!("answered for {:?}, not {:?}", self.handle, requested.as_str())));
        }
        self.handle = requested.as_str().to_owned();
        let id_ok = match self.platform {
            Platform::Instagram => !self.external_id.is_empty() && self.external_id.bytes().all(|b| b.is_ascii_digit()),
            Platform::Youtube => self.external_id.starts_with("UC") && is_token(&self.external_id, 24, 24),
        };
        if !id_ok {
            return Err(malformed(source, format!("{:?} is not a {} id", self.external_id, self.platform)));
        }
        self.country = self.country.filter(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()));
        self.name = self.name.chars().take(500).collect();
        self.bio = self.bio.chars().take(5000).collect();
        Ok(self)
    }
}

impl Post {
    pub(crate) fn validated(self, source: &str, platform: Platform) -> Result<Self, ProviderError> {
        let ok = match platform {
            Platform::Instagram => is_token(&self.id, 5, 40),
            Platform::Youtube => is_token(&self.id, 11, 11),
        };
        if ok {
            Ok(self)
        } else {
            Err(malformed(source, format!("{:?} is not a {platform} post id", self.id)))
        }
    }
}
