//! The YouTube Data API v3 shapes, asked two ways: Google's own API (`youtube-data-api`, key in
//! the `key` query parameter) and the RapidAPI mirror `youtube-v31.p.rapidapi.com`
//! (`youtubev31`, RapidAPI headers), which returns the very same bodies. Counts are decimal
//! strings; an unknown handle is a 200 without `items`; quota and rate errors are 403 with
//! `errors[].reason` `quotaExceeded` / `rateLimitExceeded` (never 429 from Google, though the
//! RapidAPI gateway may send one). Videos: the uploads playlist (`UC…` → `UU…`) then one
//! `videos.list` for the page's ids.

use chrono::{DateTime, Utc};
use domain::{Handle, Platform};
use futures::future::BoxFuture;
use serde::Deserialize;

use super::model::{count, malformed, need, Post, PostKind};
use super::{answer, Call, Exchange, PostsPage, Profile, Provider, ProviderError};

pub struct YoutubeData {
    rapidapi: bool,
}

impl YoutubeData {
    pub fn google() -> Self {
        Self { rapidapi: false }
    }

    pub fn rapidapi() -> Self {
        Self { rapidapi: true }
    }

    fn get(&self, call: &Call<'_>, path: &str, query: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let req = call.http.get(call.url(path)).query(query);
        if self.rapidapi {
            call.rapidapi(req)
        } else {
            req.query(&[("key", call.credential.key())])
        }
    }
}

#[derive(Deserialize)]
struct List<T> {
    items: Option<Vec<T>>,
    #[serde(rename = "nextPageToken")]
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
struct Channel {
    id: Option<String>,
    snippet: Option<ChannelSnippet>,
    statistics: Option<ChannelStatistics>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChannelSnippet {
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    custom_url: Option<String>,
    country: Option<String>,
    thumbnails: Option<Thumbnails>,
}

#[derive(Deserialize)]
struct Thumbnails {
    high: Option<Thumbnail>,
    medium: Option<Thumbnail>,
    default: Option<Thumbnail>,
}

#[derive(Deserialize)]
struct Thumbnail {
    url: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChannelStatistics {
    view_count: Option<String>,
    subscriber_count: Option<String>,
    #[serde(default)]
    hidden_subscriber_count: bool,
    video_count: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaylistItem {
    content_details: Option<PlaylistDetails>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlaylistDetails {
    video_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Video {
    id: Option<String>,
    snippet: Option<VideoSnippet>,
    statistics: Option<VideoStatistics>,
    content_details: Option<VideoDetails>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VideoSnippet {
    published_at: Option<String>,
    #[serde(default)]
    title: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct VideoStatistics {
    view_count: Option<String>,
    like_count: Option<String>,
    comment_count: Option<String>,
}

#[derive(Deserialize)]
struct VideoDetails {
    duration: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: GoogleError,
}

#[derive(Deserialize)]
struct GoogleError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    errors: Vec<Reason>,
}

#[derive(Deserialize)]
struct Reason {
    #[serde(default)]
    reason: String,
}

fn failure(x: &Exchange) -> Option<ProviderError> {
    if x.status == 403 {
        if let Ok(ErrorBody { error }) = serde_json::from_slice::<ErrorBody>(&x.body) {
            let throttled = error
                .errors
                .iter()
                .any(|r| matches!(r.reason.as_str(), "quotaExceeded" | "rateLimitExceeded" | "userRateLimitExceeded"));
            return Some(if throttled {
                ProviderError::RateLimited { retry_after: x.retry_after }
            } else {
                ProviderError::CredentialRefused(error.message)
            });
        }
        return Some(ProviderError::CredentialRefused(x.snippet()));
    }
    x.common_failure()
}

/// ISO 8601 durations as YouTube writes them: `PT1H2M3S`, `PT4M42S`, `P1DT2H`; `None` for
/// anything else, a duration too long for a `u32` of seconds included.
fn iso_duration(s: &str) -> Option<u32> {
    let s = s.strip_prefix('P')?;
    let (mut total, mut number, mut in_time) = (0u64, 0u64, false);
    for c in s.chars() {
        let unit = match c {
            'T' => {
                in_time = true;
                continue;
            }
            '0'..='9' => {
                number = number.checked_mul(10)?.checked_add(u64::from(c.to_digit(10)?))?;
                continue;
            }
            'D' => 86_400,
            'H' if in_time => 3600,
            'M' if in_time => 60,
            'S' if in_time => 1,
            _ => return None,
        };
        (total, number) = (total.checked_add(number.checked_mul(unit)?)?, 0);
    }
    u32::try_from(total).ok()
}

impl Provider for YoutubeData {
    fn platform(&self) -> Platform {
        Platform::Youtube
    }

    fn profile<'a>(&'a self, call: &'a Call<'a>, handle: &'a Handle) -> BoxFuture<'a, Result<Profile, ProviderError>> {
        Box::pin(async move {
            let at = format!("@{}", handle.as_str());
            let req = self.get(call, "/channels", &[("part", "snippet,statistics"), ("forHandle", at.as_str())]);
            let x = call.send("channels", req).await?;
            self.read_profile(call.name(), &x, handle)
        })
    }

    fn read_profile(&self, source: &str, answer: &Exchange, handle: &Handle) -> Result<Profile, ProviderError> {
        if let Some(e) = failure(answer) {
            return Err(e);
        }
        let list: List<Channel> = answer.json(source)?;
        let Some(c) = list.items.and_then(|items| items.into_iter().next()) else {
            return Err(ProviderError::NotFound);
        };
        let snippet = need(source, c.snippet, "snippet")?;
        let stats = need(source, c.statistics, "statistics")?;
        let followers = if stats.hidden_subscriber_count {
            0
        } else {
            count(source, stats.subscriber_count.as_deref(), "statistics.subscriberCount")?
        };
        let avatar = snippet.thumbnails.and_then(|t| t.high.or(t.medium).or(t.default)).map(|t| t.url);
        Profile {
            platform: Platform::Youtube,
            external_id: need(source, c.id, "id")?,
            // forHandle matched the handle; customUrl says it back when present
            handle: snippet
                .custom_url
                .map(|u| u.trim_start_matches('@').to_owned())
                .unwrap_or_else(|| handle.to_string()),
            name: snippet.title,
            bio: snippet.description,
            followers,
            following: None,
            content_count: count(source, stats.video_count.as_deref(), "statistics.videoCount")?,
            total_views: Some(count(source, stats.view_count.as_deref(), "statistics.viewCount")?),
            avatar_url: avatar,
            category: None,
            country: snippet.country,
            verified: false,
            is_business: false,
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
            let source = call.name();
            let uploads = format!("UU{}", profile.external_id.trim_start_matches("UC"));
            let mut query = vec![("part", "contentDetails"), ("playlistId", uploads.as_str()), ("maxResults", "50")];
            if let Some(c) = cursor {
                query.push(("pageToken", c));
            }
            let list = call.send("playlistItems", self.get(call, "/playlistItems", &query)).await?;
            let ids = match read_playlist(source, &list) {
                Ok((ids, _)) if !ids.is_empty() => ids,
                _ => return self.read_posts(source, &[list], profile),
            };
            let joined = ids.join(",");
            let query = [("part", "snippet,statistics,contentDetails"), ("id", joined.as_str())];
            let videos = call.send("videos", self.get(call, "/videos", &query)).await?;
            self.read_posts(source, &[list, videos], profile)
        })
    }

    fn read_posts(&self, source: &str, answers: &[Exchange], _profile: &Profile) -> Result<PostsPage, ProviderError> {
        let (ids, next) = read_playlist(source, answer(answers, 0, "playlistItems")?)?;
        if ids.is_empty() {
            return Ok(PostsPage { posts: Vec::new(), next: None });
        }
        let x = answer(answers, 1, "videos")?;
        if let Some(e) = failure(x) {
            return Err(e);
        }
        let videos: List<Video> = x.json(source)?;
        let posts = videos
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|v| {
                let snippet = need(source, v.snippet, "snippet")?;
                let stats = need(source, v.statistics, "statistics")?;
                let published = need(source, snippet.published_at, "snippet.publishedAt")?;
                let optional = |v: Option<String>, field| match v {
                    Some(v) => count(source, Some(&v), field),
                    None => Ok(0),
                };
                Post {
                    id: need(source, v.id, "id")?,
                    kind: PostKind::Video,
                    published_at: DateTime::parse_from_rfc3339(&published)
                        .map_err(|_| malformed(source, format!("publishedAt {published:?}")))?
                        .with_timezone(&Utc),
                    likes: optional(stats.like_count, "statistics.likeCount")?,
                    comments: optional(stats.comment_count, "statistics.commentCount")?,
                    views: optional(stats.view_count, "statistics.viewCount")?,
                    text: snippet.title,
                    duration_seconds: v.content_details.and_then(|d| d.duration).and_then(|d| iso_duration(&d)),
                }
                .validated(source, Platform::Youtube)
            })
            .collect::<Result<_, _>>()?;
        Ok(PostsPage { posts, next })
    }
}

/// The videos a `playlistItems` answer names (one `videos` request asks for them all), and
/// its page token.
fn read_playlist(source: &str, x: &Exchange) -> Result<(Vec<String>, Option<String>), ProviderError> {
    if let Some(e) = failure(x) {
        return Err(e);
    }
    let page: List<PlaylistItem> = x.json(source)?;
    let ids = page.items.unwrap_or_default().into_iter().filter_map(|i| i.content_details?.video_id).collect();
    Ok((ids, page.next_page_token.filter(|t| !t.is_empty())))
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_durations() {
        assert_eq!(super::iso_duration("PT4M42S"), Some(282));
        assert_eq!(super::iso_duration("PT1H2M3S"), Some(3723));
        assert_eq!(super::iso_duration("P1DT2H"), Some(93_600));
        assert_eq!(super::iso_duration("PT"), Some(0));
        assert_eq!(super::iso_duration("4M"), None);
        // found by fuzzing (provider_posts): the digits overflowed a u64 and panicked
        assert_eq!(super::iso_duration("PT10M164444444444444444444444S"), None);
        assert_eq!(super::iso_duration("P999999999999999999D"), None);
        assert_eq!(super::iso_duration("PT4294967295S"), Some(u32::MAX));
        assert_eq!(super::iso_duration("PT4294967296S"), None);
    }

    /// The fuzzer's crashing page (provider_posts), cut down: a video whose duration does not
    /// fit is read without one.
    #[test]
    fn a_video_of_an_overlong_duration_is_read_without_one() {
        use crate::providers::{Exchange, Profile, Provider};
        use domain::Platform;

        let answer =
            |body: &str| Exchange { status: 200, retry_after: None, body: body.to_owned().into_bytes().into() };
        let answers = [
            answer(r#"{"items":[{"contentDetails":{"videoId":"VlRisfcoYRn"}}],"nextPageToken":"10"}"#),
            answer(
                r#"{"items":[{"contentDetails":{"duration":"PT10M164444444444444444444444S"},"id":"VlRisfcoYRn",
                   "snippet":{"publishedAt":"2026-11-30T09:13:26Z","title":"video 0"},
                   "statistics":{"commentCount":"6230","likeCount":"186893","viewCount":"1495795"}}]}"#,
            ),
        ];
        let profile = Profile {
            platform: Platform::Youtube,
            external_id: "UCLA_DiR1FfKNvjuUpBHmylQ".into(),
            handle: "nasa".into(),
            name: "NASA".into(),
            bio: String::new(),
            followers: 1,
            following: None,
            content_count: 1,
            total_views: Some(1),
            avatar_url: None,
            category: None,
            country: None,
            verified: false,
            is_business: false,
        };
        for (source, adapter) in
            [("youtube-data-api", super::YoutubeData::google()), ("youtubev31", super::YoutubeData::rapidapi())]
        {
            let page = adapter.read_posts(source, &answers, &profile).expect("a page");
            assert_eq!(page.next.as_deref(), Some("10"));
            assert_eq!(page.posts.len(), 1);
            assert_eq!(page.posts[0].id, "VlRisfcoYRn");
            assert_eq!(page.posts[0].duration_seconds, None);
        }
    }
}
