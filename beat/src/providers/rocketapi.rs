//! RocketAPI for Instagram (`v1.rocketapi.io`, header `Authorization: Token <key>`): every
//! method is a POST with a JSON body, and every answer is wrapped as `{"status": "done",
//! "response": {"status_code": …, "body": …}}` with the outer HTTP status 200 even when
//! Instagram said 404, so the inner status decides. `user/get_info` answers the web profile
//! (`edge_followed_by.count`, …); `user/get_media` a private-API feed page.

use domain::{Handle, Platform};
use futures::future::BoxFuture;
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::instagram_private::{id_string, Feed};
use super::model::{malformed, need};
use super::{answer, Call, Exchange, PostsPage, Profile, Provider, ProviderError};

pub struct RocketApi;

#[derive(Deserialize)]
struct Envelope<T> {
    status: String,
    response: Option<Inner<T>>,
}

#[derive(Deserialize)]
struct Inner<T> {
    status_code: u16,
    body: Option<T>,
}

#[derive(Deserialize)]
struct InfoBody {
    data: Option<InfoData>,
}

#[derive(Deserialize)]
struct InfoData {
    user: Option<WebUser>,
}

#[derive(Deserialize)]
struct Count {
    count: u64,
}

#[derive(Deserialize)]
struct WebUser {
    id: Option<serde_json::Value>,
    username: Option<String>,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    biography: String,
    edge_followed_by: Option<Count>,
    edge_follow: Option<Count>,
    edge_owner_to_timeline_media: Option<Count>,
    #[serde(default)]
    is_verified: bool,
    #[serde(default)]
    is_business_account: bool,
    category_name: Option<String>,
    profile_pic_url_hd: Option<String>,
}

fn open<T: DeserializeOwned>(source: &str, x: &Exchange) -> Result<T, ProviderError> {
    let envelope: Envelope<T> = x.decode(source)?;
    if envelope.status != "done" {
        return Err(ProviderError::Unavailable(format!("rocketapi status {:?}", envelope.status)));
    }
    let inner = need(source, envelope.response, "response")?;
    match inner.status_code {
        200 => need(source, inner.body, "response.body"),
        404 => Err(ProviderError::NotFound),
        429 => Err(ProviderError::RateLimited { retry_after: None }),
        s => Err(ProviderError::Unavailable(format!("instagram answered {s} through rocketapi"))),
    }
}

impl Provider for RocketApi {
    fn platform(&self) -> Platform {
        Platform::Instagram
    }

    fn profile<'a>(&'a self, call: &'a Call<'a>, handle: &'a Handle) -> BoxFuture<'a, Result<Profile, ProviderError>> {
        Box::pin(async move {
            let req = call
                .http
                .post(call.url("/instagram/user/get_info"))
                .header("authorization", format!("Token {}", call.credential.key()))
                .json(&serde_json::json!({ "username": handle.as_str() }));
            let x = call.send("user/get_info", req).await?;
            self.read_profile(call.name(), &x, handle)
        })
    }

    fn read_profile(&self, source: &str, answer: &Exchange, handle: &Handle) -> Result<Profile, ProviderError> {
        let body: InfoBody = open(source, answer)?;
        let user = match body.data.and_then(|d| d.user) {
            Some(u) => u,
            None => return Err(ProviderError::NotFound),
        };
        Profile {
            platform: Platform::Instagram,
            external_id: need(source, id_string(user.id), "id")?,
            handle: need(source, user.username, "username")?,
            name: user.full_name,
            bio: user.biography,
            followers: need(source, user.edge_followed_by, "edge_followed_by")?.count,
            following: Some(need(source, user.edge_follow, "edge_follow")?.count),
            content_count: need(source, user.edge_owner_to_timeline_media, "edge_owner_to_timeline_media")?.count,
            total_views: None,
            avatar_url: user.profile_pic_url_hd,
            category: user.category_name,
            country: None,
            verified: user.is_verified,
            is_business: user.is_business_account,
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
            let id: u64 =
                profile.external_id.parse().map_err(|_| malformed(call.name(), "the profile id is not numeric"))?;
            let req = call
                .http
                .post(call.url("/instagram/user/get_media"))
                .header("authorization", format!("Token {}", call.credential.key()))
                .json(&serde_json::json!({ "id": id, "count": 12, "max_id": cursor }));
            let x = call.send("user/get_media", req).await?;
            self.read_posts(call.name(), &[x], profile)
        })
    }

    fn read_posts(&self, source: &str, answers: &[Exchange], _profile: &Profile) -> Result<PostsPage, ProviderError> {
        open::<Feed>(source, answer(answers, 0, "user/get_media")?)?.into_page(source)
    }
}
