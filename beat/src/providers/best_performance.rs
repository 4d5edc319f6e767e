//! insta-best-performance (RapidAPI host `instagram-api-cheap-best-performance.p.rapidapi.com`):
//! `GET /profile?username=` answers Instagram's private-API user object at the top level, and
//! `GET /feed?user_id=&next_max_id=` a private-API feed page. The field names are those its
//! clients read; its not-found body is not documented, so a 404 (what the simulator sends) is
//! read as "no such creator" and a 200 without a user is a malformed answer.

use domain::{Handle, Platform};
use futures::future::BoxFuture;

use super::instagram_private::{Feed, User};
use super::{answer, Call, Exchange, PostsPage, Profile, Provider, ProviderError};

pub struct BestPerformance;

impl Provider for BestPerformance {
    fn platform(&self) -> Platform {
        Platform::Instagram
    }

    fn profile<'a>(&'a self, call: &'a Call<'a>, handle: &'a Handle) -> BoxFuture<'a, Result<Profile, ProviderError>> {
        Box::pin(async move {
            let req = call.rapidapi(call.http.get(call.url("/profile")).query(&[("username", handle.as_str())]));
            let x = call.send("profile", req).await?;
            self.read_profile(call.name(), &x, handle)
        })
    }

    fn read_profile(&self, source: &str, answer: &Exchange, handle: &Handle) -> Result<Profile, ProviderError> {
        answer.decode::<User>(source)?.into_profile(source, handle)
    }

    fn posts<'a>(
        &'a self,
        call: &'a Call<'a>,
        profile: &'a Profile,
        cursor: Option<&'a str>,
    ) -> BoxFuture<'a, Result<PostsPage, ProviderError>> {
        Box::pin(async move {
            let mut query = vec![("user_id", profile.external_id.as_str())];
            if let Some(c) = cursor {
                query.push(("next_max_id", c));
            }
            let x = call.send("feed", call.rapidapi(call.http.get(call.url("/feed")).query(&query))).await?;
            self.read_posts(call.name(), &[x], profile)
        })
    }

    fn read_posts(&self, source: &str, answers: &[Exchange], _profile: &Profile) -> Result<PostsPage, ProviderError> {
        answer(answers, 0, "feed")?.decode::<Feed>(source)?.into_page(source)
    }
}
