//! arraybobo's "Instagram Scraper 2022" (RapidAPI host `instagram-scraper-2022.p.rapidapi.com`):
//! `GET /ig/info_username/?user=` answers `{"user": <private-API user>}`; `GET /ig/posts/?id_user=
//! &end_cursor=` answers Instagram's web GraphQL timeline (`edge_owner_to_timeline_media`, 12
//! posts a page). A 404 or a body without `user` means no such creator (its not-found body is
//! not documented; this is the most plausible reading).

use chrono::{TimeZone, Utc};
use domain::{Handle, Platform};
use futures::future::BoxFuture;
use serde::Deserialize;

use super::instagram_private::User;
use super::model::{malformed, need, Post, PostKind};
use super::{answer, Call, Exchange, PostsPage, Profile, Provider, ProviderError};

pub struct Arraybobo;

#[derive(Deserialize)]
struct Info {
    user: Option<User>,
}

/// The web GraphQL timeline, shared with RocketAPI's profile answer.
#[derive(Deserialize)]
pub(super) struct Timeline {
    #[serde(default)]
    pub page_info: Option<PageInfo>,
    #[serde(default)]
    pub edges: Vec<Edge>,
}

#[derive(Deserialize)]
pub(super) struct PageInfo {
    #[serde(default)]
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Edge {
    node: Node,
}

#[derive(Deserialize)]
struct Count {
    count: u64,
}

#[derive(Deserialize)]
struct CaptionEdges {
    #[serde(default)]
    edges: Vec<CaptionEdge>,
}

#[derive(Deserialize)]
struct CaptionEdge {
    node: CaptionNode,
}

#[derive(Deserialize)]
struct CaptionNode {
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
struct Node {
    shortcode: Option<String>,
    #[serde(rename = "__typename")]
    typename: Option<String>,
    product_type: Option<String>,
    taken_at_timestamp: Option<i64>,
    edge_media_to_comment: Option<Count>,
    edge_media_preview_like: Option<Count>,
    video_view_count: Option<u64>,
    edge_media_to_caption: Option<CaptionEdges>,
}

impl Timeline {
    pub(super) fn into_page(self, source: &str) -> Result<PostsPage, ProviderError> {
        let posts = self
            .edges
            .into_iter()
            .map(|e| {
                let n = e.node;
                let kind = match (n.typename.as_deref(), n.product_type.as_deref()) {
                    (Some("GraphImage"), _) => PostKind::Image,
                    (Some("GraphSidecar"), _) => PostKind::Carousel,
                    (Some("GraphVideo"), Some("clips")) => PostKind::Reel,
                    (Some("GraphVideo"), _) => PostKind::Video,
                    (other, _) => return Err(malformed(source, format!("__typename {other:?}"))),
                };
                let at = need(source, n.taken_at_timestamp, "taken_at_timestamp")?;
                Post {
                    id: need(source, n.shortcode, "shortcode")?,
                    kind,
                    published_at: Utc
                        .timestamp_opt(at, 0)
                        .single()
                        .ok_or_else(|| malformed(source, format!("taken_at_timestamp {at} is not a time")))?,
                    likes: n.edge_media_preview_like.map_or(0, |c| c.count),
                    comments: n.edge_media_to_comment.map_or(0, |c| c.count),
                    views: n.video_view_count.unwrap_or(0),
                    text: n
                        .edge_media_to_caption
                        .and_then(|c| c.edges.into_iter().next())
                        .map(|e| e.node.text)
                        .unwrap_or_default(),
                    duration_seconds: None,
                }
                .validated(source, Platform::Instagram)
            })
            .collect::<Result<_, _>>()?;
        let next = self.page_info.filter(|p| p.has_next_page).and_then(|p| p.end_cursor).filter(|c| !c.is_empty());
        Ok(PostsPage { posts, next })
    }
}

#[derive(Deserialize)]
struct PostsBody {
    data: PostsData,
}

#[derive(Deserialize)]
struct PostsData {
    user: PostsUser,
}

#[derive(Deserialize)]
struct PostsUser {
    edge_owner_to_timeline_media: Timeline,
}

impl Provider for Arraybobo {
    fn platform(&self) -> Platform {
        Platform::Instagram
    }

    fn profile<'a>(&'a self, call: &'a Call<'a>, handle: &'a Handle) -> BoxFuture<'a, Result<Profile, ProviderError>> {
        Box::pin(async move {
            let req = call.rapidapi(call.http.get(call.url("/ig/info_username/")).query(&[("user", handle.as_str())]));
            let x = call.send("info_username", req).await?;
            self.read_profile(call.name(), &x, handle)
        })
    }

    fn read_profile(&self, source: &str, answer: &Exchange, handle: &Handle) -> Result<Profile, ProviderError> {
        match answer.decode::<Info>(source)?.user {
            Some(user) => user.into_profile(source, handle),
            None => Err(ProviderError::NotFound),
        }
    }

    fn posts<'a>(
        &'a self,
        call: &'a Call<'a>,
        profile: &'a Profile,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<PostsPage, ProviderError>> {
        Box::pin(async move {
            let mut query = vec![("id_user", profile.external_id.as_str())];
            if let Some(c) = cursor {
                query.push(("end_cursor", c));
            }
            let x = call.send("posts", call.rapidapi(call.http.get(call.url("/ig/posts/")).query(&query))).await?;
            self.read_posts(call.name(), &[x], profile)
        })
    }

    fn read_posts(&self, source: &str, answers: &[Exchange], _profile: &Profile) -> Result<PostsPage, ProviderError> {
        answer(answers, 0, "posts")?
            .decode::<PostsBody>(source)?
            .data
            .user
            .edge_owner_to_timeline_media
            .into_page(source)
    }
}
