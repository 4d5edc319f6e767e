//! youtube138 (RapidAPI host `youtube138.p.rapidapi.com`): `GET /channel/details/?id=@handle`
//! answers the channel (`channelId`, `stats.subscribers` …, integers; verification as a
//! `VERIFIED_CHANNEL` badge), `GET /channel/videos/?id=UC…&filter=videos_latest&cursor=` a page
//! of videos without publish dates or likes, so each video's `GET /video/details/?id=` is
//! asked too (one call per video, within the source's limit). Lookup by `@handle` and the not-found answer (a
//! body with an `error` and no `channelId`, or a 404) are modelled on what its clients show;
//! the exact bodies are not documented.

use chrono::{DateTime, Utc};
use domain::{Handle, Platform};
use futures::future::BoxFuture;
use serde::Deserialize;

use super::model::{malformed, need, Post, PostKind};
use super::{answer, Call, Exchange, PostsPage, Profile, Provider, ProviderError};

pub struct Youtube138;

/// Videos whose details are fetched per page (each one more request against the source).
const DETAILS_PER_PAGE: usize = 10;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Channel {
    channel_id: Option<String>,
    error: Option<serde_json::Value>,
    username: Option<String>,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    country: Option<String>,
    #[serde(default)]
    avatar: Vec<Image>,
    #[serde(default)]
    badges: Vec<Badge>,
    stats: Option<ChannelStats>,
}

#[derive(Deserialize)]
struct Image {
    url: String,
    #[serde(default)]
    width: u32,
}

#[derive(Deserialize)]
struct Badge {
    #[serde(rename = "type", default)]
    kind: String,
}

#[derive(Deserialize)]
struct ChannelStats {
    subscribers: Option<u64>,
    videos: Option<u64>,
    views: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Videos {
    #[serde(default)]
    contents: Vec<Content>,
    cursor_next: Option<String>,
}

#[derive(Deserialize)]
struct Content {
    video: Option<ListedVideo>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedVideo {
    video_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Details {
    video_id: Option<String>,
    #[serde(default)]
    title: String,
    length_seconds: Option<u32>,
    stats: Option<VideoStats>,
    date: Option<Dates>,
}

#[derive(Deserialize)]
struct VideoStats {
    views: Option<u64>,
    likes: Option<u64>,
    comments: Option<u64>,
}

#[derive(Deserialize)]
struct Dates {
    published: Option<String>,
}

impl Provider for Youtube138 {
    fn platform(&self) -> Platform {
        Platform::Youtube
    }

    fn profile<'a>(&'a self, call: &'a Call<'a>, handle: &'a Handle) -> BoxFuture<'a, Result<Profile, ProviderError>> {
        Box::pin(async move {
            let at = format!("@{}", handle.as_str());
            let req = call.rapidapi(call.http.get(call.url("/channel/details/")).query(&[("id", at.as_str())]));
            let x = call.send("channel/details", req).await?;
            self.read_profile(call.name(), &x, handle)
        })
    }

    fn read_profile(&self, source: &str, answer: &Exchange, handle: &Handle) -> Result<Profile, ProviderError> {
        let c: Channel = answer.decode(source)?;
        let channel_id = match (c.channel_id, c.error) {
            (Some(id), _) => id,
            (None, Some(_)) => return Err(ProviderError::NotFound),
            (None, None) => return Err(malformed(source, "channelId is missing")),
        };
        let stats = need(source, c.stats, "stats")?;
        Profile {
            platform: Platform::Youtube,
            external_id: channel_id,
            handle: need(source, c.username, "username")?.trim_start_matches('@').to_owned(),
            name: c.title,
            bio: c.description,
            followers: need(source, stats.subscribers, "stats.subscribers")?,
            following: None,
            content_count: stats.videos.unwrap_or(0),
            total_views: stats.views,
            avatar_url: c.avatar.into_iter().max_by_key(|i| i.width).map(|i| i.url),
            category: None,
            country: c.country,
            verified: c.badges.iter().any(|b| b.kind == "VERIFIED_CHANNEL"),
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
            let mut query = vec![("id", profile.external_id.as_str()), ("filter", "videos_latest")];
            if let Some(c) = cursor {
                query.push(("cursor", c));
            }
            let list = call
                .send("channel/videos", call.rapidapi(call.http.get(call.url("/channel/videos/")).query(&query)))
                .await?;
            let ids = match read_list(source, &list) {
                Ok((ids, _)) => ids,
                Err(_) => return self.read_posts(source, &[list], profile),
            };
            let mut answers = vec![list];
            for id in ids {
                let req = call.rapidapi(call.http.get(call.url("/video/details/")).query(&[("id", id.as_str())]));
                let x = call.send("video/details", req).await?;
                // the page fails at the first video it cannot read: ask no more after it
                let unreadable = read_video(source, &x).is_err();
                answers.push(x);
                if unreadable {
                    break;
                }
            }
            self.read_posts(source, &answers, profile)
        })
    }

    fn read_posts(&self, source: &str, answers: &[Exchange], _profile: &Profile) -> Result<PostsPage, ProviderError> {
        let (ids, next) = read_list(source, answer(answers, 0, "channel/videos")?)?;
        let mut posts = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            if let Some(post) = read_video(source, answer(answers, i + 1, &format!("video/details of {id}"))?)? {
                posts.push(post);
            }
        }
        Ok(PostsPage { posts, next })
    }
}

/// The videos a `channel/videos` answer names (those whose details are asked, in its order),
/// and its cursor.
fn read_list(source: &str, x: &Exchange) -> Result<(Vec<String>, Option<String>), ProviderError> {
    let list: Videos = x.decode(source)?;
    let ids = list.contents.into_iter().filter_map(|c| c.video?.video_id).take(DETAILS_PER_PAGE).collect();
    Ok((ids, list.cursor_next.filter(|c| !c.is_empty())))
}

/// The video in a `video/details` answer; `None` for one gone between the list and its
/// details, which is skipped, not fatal.
fn read_video(source: &str, x: &Exchange) -> Result<Option<Post>, ProviderError> {
    if let Some(e) = x.common_failure() {
        return if e == ProviderError::NotFound { Ok(None) } else { Err(e) };
    }
    let d: Details = x.json(source)?;
    let stats = need(source, d.stats, "stats")?;
    let published = need(source, d.date.and_then(|d| d.published), "date.published")?;
    Post {
        id: need(source, d.video_id, "videoId")?,
        kind: PostKind::Video,
        published_at: DateTime::parse_from_rfc3339(&published)
            .map_err(|_| malformed(source, format!("date.published {published:?}")))?
            .with_timezone(&Utc),
        likes: stats.likes.unwrap_or(0),
        comments: stats.comments.unwrap_or(0),
        views: stats.views.unwrap_or(0),
        text: d.title,
        duration_seconds: d.length_seconds,
    }
    .validated(source, Platform::Youtube)
    .map(Some)
}
