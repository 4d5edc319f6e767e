//! Collection rules: names are trimmed and 1–200 characters, descriptions and notes at most
//! 2000; a collection is found only within the caller's partner; an item must point at a real
//! profile (or post) of its platform.

use serde::Deserialize;
use utoipa::ToSchema;

use super::entity::{Collection, CollectionDto, Item, ItemDto};
use super::kind::{CollectionKind, Posts};
use super::repo::{self, PostMetricsSummary};
use crate::core::context::RequestContext;
use crate::core::dao::{Dao, Entity, MutableDao, SearchQuery, Value, Values};
use crate::core::postgres::PgDao;
use crate::domain::{CollectionName, Page, Platform};
use crate::error::{ApiError, ApiResult, ResultExt};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCollection {
    /// trimmed; 1 to 200 characters
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^[^\x00]*\S[^\x00]*$")]
    pub name: CollectionName,
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub description: String,
}

/// At least one field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CollectionPatch {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = String, min_length = 1, max_length = 200, pattern = r"^[^\x00]*\S[^\x00]*$", nullable = false)]
    pub name: Option<CollectionName>,
    #[serde(default, deserialize_with = "present")]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$", nullable = false)]
    pub description: Option<String>,
}

/// An id as JSON means it: any whole number, `7.0` included (JSON has one number type).
fn whole_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    n.as_i64()
        .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15).map(|f| f as i64))
        .ok_or_else(|| serde::de::Error::custom(format!("{n} is not a whole number between -2^63 and 2^63-1")))
}

/// A patch field that, when sent, carries a value: `null` is refused (422) rather than read as
/// "not sent", so the request means what it says.
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    Option::<T>::deserialize(d)?.map(Some).ok_or_else(|| serde::de::Error::custom("may not be null"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewItem {
    pub platform: Platform,
    /// id of the profile (or post) on its platform's table
    #[schema(minimum = 1)]
    #[serde(deserialize_with = "whole_number")]
    pub target_id: i64,
    #[serde(default)]
    #[schema(max_length = 2000, pattern = r"^[^\x00]*$")]
    pub note: String,
}

#[derive(Debug, Deserialize, ToSchema, utoipa::IntoParams, Default)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    #[param(minimum = 1, maximum = 10000)]
    #[schema(minimum = 1, maximum = 10000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 100)]
    #[schema(minimum = 1, maximum = 100)]
    pub size: Option<u32>,
}

fn valid_text(field: &str, text: &str) -> ApiResult<String> {
    if text.chars().count() > 2000 {
        return Err(ApiError::Unprocessable(format!("{field} must be at most 2000 characters")));
    }
    Ok(text.to_owned())
}

/// The caller's collection, or 404 (also when it belongs to another partner).
pub async fn owned<K: CollectionKind>(ctx: &RequestContext, id: i64) -> ApiResult<Collection<K>> {
    let partner = ctx.require_partner()?;
    mine(partner, id, PgDao::<Collection<K>>::default().find_by_id(ctx, id).await?)
}

/// [`owned`], for a request that changes the collection or its items: the collection's row is
/// locked until the request commits. Every change of a collection takes this lock first, so
/// changes to one collection run one after another: a delete cannot commit between an item
/// add's check and its insert (which would fail the insert's reference), two deletes cannot
/// both succeed, and a delete's cascade and an add's bump of `updated_at` never lock the same
/// rows in opposite orders (a deadlock).
async fn owned_for_write<K: CollectionKind>(ctx: &RequestContext, id: i64) -> ApiResult<Collection<K>> {
    let partner = ctx.require_partner()?;
    mine(partner, id, PgDao::<Collection<K>>::default().lock_by_id(ctx, id).await?)
}

fn mine<K: CollectionKind>(partner: i64, id: i64, found: Option<Collection<K>>) -> ApiResult<Collection<K>> {
    match found {
        Some(c) if c.partner_id == partner => Ok(c),
        _ => Err(ApiError::not_found(format!("{} {id}", K::NAME))),
    }
}

pub async fn list<K: CollectionKind>(ctx: &RequestContext, params: &ListParams) -> ApiResult<Page<CollectionDto>> {
    let partner = ctx.require_partner()?;
    let request = crate::core::dao::SearchRequest { page: params.page, size: params.size, ..Default::default() };
    let query = SearchQuery::from_request(&request, &[], Collection::<K>::DEFAULT_SORT)?
        .scoped("partner_id", Value::Int(partner));
    let (items, total) = PgDao::<Collection<K>>::default().search(ctx, &query).await?;
    Ok(Page { items: items.into_iter().map(Into::into).collect(), total, page: query.page, size: query.size })
}

pub async fn create<K: CollectionKind>(ctx: &RequestContext, new: NewCollection) -> ApiResult<CollectionDto> {
    let partner = ctx.require_partner()?;
    let values: Values = vec![
        ("partner_id", Value::Int(partner)),
        ("created_by", ctx.user_id().map_or(Value::Null, Value::Int)),
        ("name", Value::Text(new.name.as_str().to_owned())),
        ("description", Value::Text(valid_text("description", &new.description)?)),
    ];
    PgDao::<Collection<K>>::default()
        .create(ctx, values)
        .await
        .on_constraint(K::NAME_KEY, || duplicate_name(&new.name))?
        .map(Into::into)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("postgres returned no row for an insert")))
}

fn duplicate_name(name: &CollectionName) -> ApiError {
    ApiError::Conflict(format!("you already have a collection named {:?}", name.as_str()))
}

pub async fn update<K: CollectionKind>(
    ctx: &RequestContext,
    id: i64,
    patch: CollectionPatch,
) -> ApiResult<CollectionDto> {
    owned_for_write::<K>(ctx, id).await?;
    let mut values: Values = Vec::new();
    if let Some(name) = &patch.name {
        values.push(("name", Value::Text(name.as_str().to_owned())));
    }
    if let Some(description) = &patch.description {
        values.push(("description", Value::Text(valid_text("description", description)?)));
    }
    if values.is_empty() {
        return Err(ApiError::Unprocessable("nothing to change: send name and/or description".into()));
    }
    PgDao::<Collection<K>>::default()
        .update(ctx, id, values)
        .await
        .on_constraint(K::NAME_KEY, || match &patch.name {
            Some(name) => duplicate_name(name),
            None => ApiError::Conflict("a collection with this name exists".into()),
        })?
        .map(Into::into)
        .ok_or_else(|| ApiError::not_found(format!("{} {id}", K::NAME)))
}

pub async fn delete<K: CollectionKind>(ctx: &RequestContext, id: i64) -> ApiResult<()> {
    owned_for_write::<K>(ctx, id).await?;
    ctx.config.hooks.pause("collection.delete.before_delete").await;
    PgDao::<Collection<K>>::default().delete(ctx, id).await?;
    Ok(())
}

pub async fn items<K: CollectionKind>(ctx: &RequestContext, collection_id: i64) -> ApiResult<Vec<ItemDto>> {
    let request = crate::core::dao::SearchRequest { size: Some(crate::core::dao::MAX_PAGE_SIZE), ..Default::default() };
    let mut query = SearchQuery::from_request(&request, &[], Item::<K>::DEFAULT_SORT)?
        .scoped("collection_id", Value::Int(collection_id));
    let mut all = Vec::new();
    loop {
        let (page, total) = PgDao::<Item<K>>::default().search(ctx, &query).await?;
        all.extend(page.into_iter().map(ItemDto::from));
        if all.len() as u64 >= total {
            return Ok(all);
        }
        query.page += 1;
    }
}

pub async fn add_item<K: CollectionKind>(ctx: &RequestContext, collection_id: i64, new: NewItem) -> ApiResult<ItemDto> {
    owned_for_write::<K>(ctx, collection_id).await?;
    if new.target_id <= 0 {
        return Err(ApiError::Unprocessable("target_id must be a positive id".into()));
    }
    let table = K::target_table(new.platform);
    let exists = ctx
        .postgres("item_target_exists", async {
            Ok(repo::exists(&mut *ctx.pg.read().await?, table, new.target_id).await?)
        })
        .await?;
    if !exists {
        // the collection (the path's resource) is there; the body names a creator or post
        // that is not: a 404 of its own problem type
        return Err(ApiError::TargetNotFound(format!(
            "no {} {} {} exists to add (the {} is there)",
            new.platform.as_str(),
            K::TARGET,
            new.target_id,
            K::NAME
        )));
    }
    let values: Values = vec![
        ("collection_id", Value::Int(collection_id)),
        ("platform", Value::Text(new.platform.as_str().to_owned())),
        (K::item_column(new.platform), Value::Int(new.target_id)),
        ("added_by", ctx.user_id().map_or(Value::Null, Value::Int)),
        ("note", Value::Text(valid_text("note", &new.note)?)),
    ];
    let item =
        PgDao::<Item<K>>::default().create(ctx, values).await.on_constraint(&K::item_key(new.platform), || {
            ApiError::Conflict(format!(
                "{} {} {} is already in this {}",
                new.platform.as_str(),
                K::TARGET,
                new.target_id,
                K::NAME
            ))
        })?;
    ctx.config.hooks.pause("collection.add_item.before_touch").await;
    touch::<K>(ctx, collection_id).await?;
    item.map(Into::into).ok_or_else(|| ApiError::Internal(anyhow::anyhow!("postgres returned no row for an insert")))
}

pub async fn remove_item<K: CollectionKind>(ctx: &RequestContext, collection_id: i64, item_id: i64) -> ApiResult<()> {
    owned_for_write::<K>(ctx, collection_id).await?;
    let dao = PgDao::<Item<K>>::default();
    match dao.find_by_id(ctx, item_id).await? {
        Some(item) if item.collection_id == collection_id => {
            dao.delete(ctx, item_id).await?;
            ctx.config.hooks.pause("collection.remove_item.before_touch").await;
            touch::<K>(ctx, collection_id).await
        }
        _ => Err(ApiError::not_found(format!("item {item_id} of {} {collection_id}", K::NAME))),
    }
}

/// Bumps the collection's `updated_at` so lists sort by recent activity.
async fn touch<K: CollectionKind>(ctx: &RequestContext, id: i64) -> ApiResult<()> {
    Ok(ctx
        .postgres("collection_touch", async { Ok(repo::touch(&mut *ctx.pg.tx().await?, K::TABLE, id).await?) })
        .await?)
}

/// The metrics summary of one of the caller's post collections, as its items are now (a read:
/// nothing is stored).
pub async fn post_collection_summary(ctx: &RequestContext, id: i64) -> ApiResult<PostMetricsSummary> {
    owned::<Posts>(ctx, id).await?;
    Ok(ctx
        .postgres("post_metrics_summary", async {
            Ok(repo::post_metrics_summary(&mut *ctx.pg.read().await?, id).await?)
        })
        .await?)
}

/// Recomputes the summary of one of the caller's post collections and stores it (replacing the
/// stored one), for readers of `collection_post_metrics_summary`.
pub async fn refresh_post_collection_summary(ctx: &RequestContext, id: i64) -> ApiResult<PostMetricsSummary> {
    owned_for_write::<Posts>(ctx, id).await?;
    Ok(ctx
        .postgres("store_post_metrics_summary", async {
            Ok(repo::store_post_metrics_summary(&mut *ctx.pg.tx().await?, id).await?)
        })
        .await?)
}
