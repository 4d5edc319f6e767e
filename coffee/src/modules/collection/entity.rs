//! Collection and item rows; one generic type each, bound to its tables by the kind.

use std::marker::PhantomData;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use utoipa::ToSchema;

use super::kind::CollectionKind;
use crate::core::dao::{Direction, Entity};
use crate::domain::Platform;

/// A collection row; `K` binds it to its kind's tables.
#[derive(Debug, Clone, FromRow)]
pub struct Collection<K> {
    pub id: i64,
    pub partner_id: i64,
    pub created_by: Option<i64>,
    pub name: String,
    pub description: String,
    pub item_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[sqlx(skip)]
    pub kind: PhantomData<fn() -> K>,
}

/// A collection as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CollectionDto {
    pub id: i64,
    pub created_by: Option<i64>,
    pub name: String,
    pub description: String,
    pub item_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl<K> From<Collection<K>> for CollectionDto {
    fn from(c: Collection<K>) -> Self {
        Self {
            id: c.id,
            created_by: c.created_by,
            name: c.name,
            description: c.description,
            item_count: c.item_count,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

impl<K: CollectionKind> Entity for Collection<K> {
    type Id = i64;
    const TABLE: &'static str = K::TABLE;
    const ID: &'static str = "id";
    const COLUMNS: &'static str = K::COLLECTION_COLUMNS;
    const DEFAULT_SORT: &'static [(&'static str, Direction)] = &[("updated_at", Direction::Desc)];
}

/// An item row.
#[derive(Debug, Clone, FromRow)]
pub struct Item<K> {
    pub id: i64,
    pub collection_id: i64,
    #[sqlx(try_from = "String")]
    pub platform: Platform,
    pub target_id: i64,
    pub added_by: Option<i64>,
    pub note: String,
    pub created_at: DateTime<Utc>,
    #[sqlx(skip)]
    pub kind: PhantomData<fn() -> K>,
}

/// An item as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemDto {
    pub id: i64,
    pub platform: Platform,
    /// the profile or post id on its platform's table
    pub target_id: i64,
    pub added_by: Option<i64>,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

impl<K> From<Item<K>> for ItemDto {
    fn from(i: Item<K>) -> Self {
        Self {
            id: i.id,
            platform: i.platform,
            target_id: i.target_id,
            added_by: i.added_by,
            note: i.note,
            created_at: i.created_at,
        }
    }
}

impl<K: CollectionKind> Entity for Item<K> {
    type Id = i64;
    const TABLE: &'static str = K::ITEM_TABLE;
    const ID: &'static str = "id";
    const COLUMNS: &'static str = K::ITEM_COLUMNS;
    const DEFAULT_SORT: &'static [(&'static str, Direction)] = &[("created_at", Direction::Asc)];
}
