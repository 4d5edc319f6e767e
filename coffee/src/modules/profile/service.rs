//! Profile rules: one DTO for both platforms, premium fields nulled for FREE plans, and every
//! opened profile recorded against the partner's usage (which enforces the FREE quota).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::entity::{per_table, ProfileRow, ProfileTable};
use crate::core::context::RequestContext;
use crate::core::dao::{Dao, Op, SearchQuery, SearchRequest, Value};
use crate::core::postgres::PgDao;
use crate::domain::{Handle, Page, Platform};
use crate::error::{ApiError, ApiResult};
use crate::modules::usage::log::UsageLog;
use crate::modules::usage::service as usage;

/// A creator profile as every API response shows it, in the platforms' common terms: followers
/// are a YouTube channel's subscribers, posts its videos, `external_id` the platform's own id.
#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct ProfileDto {
    #[sqlx(try_from = "String")]
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

impl<T: ProfileTable> From<ProfileRow<T>> for ProfileDto {
    fn from(row: ProfileRow<T>) -> Self {
        row.profile
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
    per_table!(platform, |T| Ok(PgDao::<ProfileRow<T>>::default().find_by_id(ctx, id).await?.is_some()))
}

/// Profiles by id, gated, without recording views (leaderboards, collections, compare).
pub async fn by_ids(ctx: &RequestContext, platform: Platform, ids: &[i64]) -> ApiResult<Vec<ProfileDto>> {
    let rows: Vec<ProfileDto> = per_table!(platform, |T| {
        PgDao::<ProfileRow<T>>::default().find_by_ids(ctx, ids).await?.into_iter().map(Into::into).collect()
    });
    Ok(rows.into_iter().map(|p| p.gated(ctx)).collect())
}

/// Opens a profile page: counts the view (402 past the FREE quota) and gates the fields.
pub async fn open(ctx: &RequestContext, log: &UsageLog, platform: Platform, id: i64) -> ApiResult<ProfileDto> {
    let profile: Option<ProfileDto> =
        per_table!(platform, |T| PgDao::<ProfileRow<T>>::default().find_by_id(ctx, id).await?.map(Into::into));
    let profile = profile.ok_or_else(|| ApiError::not_found(format!("{} profile {id}", platform.as_str())))?;
    usage::record_profile_view(ctx, log, platform, profile.id).await?;
    Ok(profile.gated(ctx))
}

/// Opens a profile page by handle (case-insensitive).
pub async fn open_by_handle(ctx: &RequestContext, log: &UsageLog, handle: &Handle) -> ApiResult<ProfileDto> {
    let platform = handle.platform();
    let query = lookup("lower(handle)", Value::Text(handle.as_str().to_ascii_lowercase()));
    let profile: Option<ProfileDto> =
        per_table!(platform, |T| PgDao::<ProfileRow<T>>::default().find_first(ctx, &query).await?.map(Into::into));
    let profile = profile.ok_or_else(|| ApiError::not_found(format!("{} profile @{handle}", platform.as_str())))?;
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
    let (items, total, query) = per_table!(platform, |T| {
        let q = SearchQuery::from_request(req, T::FIELDS, T::DEFAULT_SORT)?;
        let (rows, total) = PgDao::<ProfileRow<T>>::default().search(ctx, &q).await?;
        (rows.into_iter().map(ProfileDto::from).collect::<Vec<_>>(), total, q)
    });
    usage::record_search(ctx, log).await?;
    Ok(Page { items: items.into_iter().map(|p| p.gated(ctx)).collect(), total, page: query.page, size: query.size })
}
