//! Profile rules: one DTO for both platforms, premium fields nulled for FREE plans, and every
//! opened profile recorded against the partner's usage (which enforces the FREE quota).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::entity::{InstagramAccount, YoutubeAccount, INSTAGRAM_FIELDS, YOUTUBE_FIELDS};
use crate::core::context::RequestContext;
use crate::core::dao::{Dao, Entity, Op, SearchQuery, SearchRequest, Value};
use crate::core::postgres::PgDao;
use crate::domain::{Page, Platform};
use crate::error::{ApiError, ApiResult};
use crate::modules::usage::log::UsageLog;
use crate::modules::usage::service as usage;

/// A creator profile as every API response shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProfileDto {
    pub platform: Platform,
    pub id: i64,
    /// The platform's own id (Instagram user id, YouTube channel id)
    pub external_id: String,
    pub handle: String,
    pub name: String,
    pub bio: String,
    pub category: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
    /// followers (Instagram) or subscribers (YouTube)
    pub followers: i64,
    pub posts: i32,
    /// percent
    pub engagement_rate: f32,
    pub avg_likes: f64,
    pub avg_comments: f64,
    pub avg_views: f64,
    pub is_verified: bool,
    pub picture_url: Option<String>,
    /// premium: null for FREE plans
    pub email: Option<String>,
    /// premium: null for FREE plans
    pub phone: Option<String>,
    /// premium: null for FREE plans
    #[schema(value_type = Option<Object>)]
    pub contact: Option<serde_json::Value>,
    /// premium: null for FREE plans
    #[schema(value_type = Option<Object>)]
    pub audience_demographics: Option<serde_json::Value>,
    pub last_scraped_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl From<InstagramAccount> for ProfileDto {
    fn from(a: InstagramAccount) -> Self {
        Self {
            platform: Platform::Instagram,
            id: a.id,
            external_id: a.ig_id,
            handle: a.handle,
            name: a.full_name,
            bio: a.biography,
            category: a.category,
            country: a.country,
            language: a.language,
            followers: a.followers,
            posts: a.posts_count,
            engagement_rate: a.engagement_rate,
            avg_likes: a.avg_likes,
            avg_comments: a.avg_comments,
            avg_views: a.avg_reel_views,
            is_verified: a.is_verified,
            picture_url: a.profile_pic_url,
            email: a.email,
            phone: a.phone,
            contact: a.contact,
            audience_demographics: a.audience_demographics,
            last_scraped_at: a.last_scraped_at,
            updated_at: a.updated_at,
        }
    }
}

impl From<YoutubeAccount> for ProfileDto {
    fn from(a: YoutubeAccount) -> Self {
        Self {
            platform: Platform::Youtube,
            id: a.id,
            external_id: a.channel_id,
            handle: a.handle,
            name: a.title,
            bio: a.description,
            category: a.category,
            country: a.country,
            language: a.language,
            followers: a.subscribers,
            posts: a.videos_count,
            engagement_rate: a.engagement_rate,
            avg_likes: a.avg_likes,
            avg_comments: a.avg_comments,
            avg_views: a.avg_views,
            is_verified: false,
            picture_url: a.thumbnail_url,
            email: a.email,
            phone: a.phone,
            contact: a.contact,
            audience_demographics: a.audience_demographics,
            last_scraped_at: a.last_scraped_at,
            updated_at: a.updated_at,
        }
    }
}

impl ProfileDto {
    /// Nulls the premium fields unless the plan includes them.
    pub fn gated(mut self, ctx: &RequestContext) -> Self {
        if !ctx.plan().sees_premium_fields() {
            self.email = None;
            self.phone = None;
            self.contact = None;
            self.audience_demographics = None;
        }
        self
    }
}

async fn find<E>(ctx: &RequestContext, query: &SearchQuery) -> ApiResult<Option<ProfileDto>>
where
    E: Entity + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Into<ProfileDto>,
{
    Ok(PgDao::<E>::default().find_first(ctx, query).await?.map(Into::into))
}

fn lookup(column: &'static str, value: Value) -> SearchQuery {
    SearchQuery {
        filters: vec![crate::core::dao::Filter { column, op: Op::Eq, value }],
        sort: vec![],
        page: 1,
        size: 1,
    }
}

/// A profile without recording a view (for other modules: collections, leaderboards).
pub async fn exists(ctx: &RequestContext, platform: Platform, id: i64) -> ApiResult<bool> {
    let found = match platform {
        Platform::Instagram => PgDao::<InstagramAccount>::default().find_by_id(ctx, id).await?.is_some(),
        Platform::Youtube => PgDao::<YoutubeAccount>::default().find_by_id(ctx, id).await?.is_some(),
    };
    Ok(found)
}

/// Profiles by id, gated, without recording views (leaderboards, collections, compare).
pub async fn by_ids(ctx: &RequestContext, platform: Platform, ids: &[i64]) -> ApiResult<Vec<ProfileDto>> {
    let rows: Vec<ProfileDto> = match platform {
        Platform::Instagram => {
            PgDao::<InstagramAccount>::default().find_by_ids(ctx, ids).await?.into_iter().map(Into::into).collect()
        }
        Platform::Youtube => {
            PgDao::<YoutubeAccount>::default().find_by_ids(ctx, ids).await?.into_iter().map(Into::into).collect()
        }
    };
    Ok(rows.into_iter().map(|p| p.gated(ctx)).collect())
}

/// Opens a profile page: counts the view (402 past the FREE quota) and gates the fields.
pub async fn open(ctx: &RequestContext, log: &UsageLog, platform: Platform, id: i64) -> ApiResult<ProfileDto> {
    let profile: Option<ProfileDto> = match platform {
        Platform::Instagram => PgDao::<InstagramAccount>::default().find_by_id(ctx, id).await?.map(Into::into),
        Platform::Youtube => PgDao::<YoutubeAccount>::default().find_by_id(ctx, id).await?.map(Into::into),
    };
    let profile = profile.ok_or_else(|| ApiError::not_found(format!("{} profile {id}", platform.as_str())))?;
    usage::record_profile_view(ctx, log, platform, profile.id).await?;
    Ok(profile.gated(ctx))
}

/// Opens a profile page by handle (case-insensitive).
pub async fn open_by_handle(
    ctx: &RequestContext,
    log: &UsageLog,
    platform: Platform,
    handle: &str,
) -> ApiResult<ProfileDto> {
    if handle.is_empty()
        || handle.len() > 30
        || !handle.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return Err(ApiError::BadRequest(format!("{handle:?} is not a valid {} handle", platform.as_str())));
    }
    let query = lookup("lower(handle)", Value::Text(handle.to_ascii_lowercase()));
    let profile = match platform {
        Platform::Instagram => find::<InstagramAccount>(ctx, &query).await?,
        Platform::Youtube => find::<YoutubeAccount>(ctx, &query).await?,
    }
    .ok_or_else(|| ApiError::not_found(format!("{} profile @{handle}", platform.as_str())))?;
    usage::record_profile_view(ctx, log, platform, profile.id).await?;
    Ok(profile.gated(ctx))
}

/// Discovery search over one platform.
pub async fn search(
    ctx: &RequestContext,
    log: &UsageLog,
    platform: Platform,
    req: &SearchRequest,
) -> ApiResult<Page<ProfileDto>> {
    let (items, total, query) = match platform {
        Platform::Instagram => {
            let q = SearchQuery::from_request(req, INSTAGRAM_FIELDS, InstagramAccount::DEFAULT_SORT)?;
            let (rows, total) = PgDao::<InstagramAccount>::default().search(ctx, &q).await?;
            (rows.into_iter().map(ProfileDto::from).collect::<Vec<_>>(), total, q)
        }
        Platform::Youtube => {
            let q = SearchQuery::from_request(req, YOUTUBE_FIELDS, YoutubeAccount::DEFAULT_SORT)?;
            let (rows, total) = PgDao::<YoutubeAccount>::default().search(ctx, &q).await?;
            (rows.into_iter().map(ProfileDto::from).collect::<Vec<_>>(), total, q)
        }
    };
    usage::record_search(ctx, log).await?;
    Ok(Page { items: items.into_iter().map(|p| p.gated(ctx)).collect(), total, page: query.page, size: query.size })
}
