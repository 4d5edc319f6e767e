//! The profile row: one type for both platforms' tables, each table's columns aliased to the
//! common names ([`ProfileTable::COLUMNS`]), the table chosen from the `Platform` by
//! [`per_table!`]; and the fields clients may search on.

use std::marker::PhantomData;

use sqlx::FromRow;

use crate::core::dao::{Direction, Entity, FieldSpec, FieldType, Op};
use crate::modules::profile::service::ProfileDto;

/// What differs between the platforms' profile tables.
pub trait ProfileTable: Send + Sync + Unpin + 'static {
    const TABLE: &'static str;
    /// The select list, aliased to [`ProfileDto`]'s fields.
    const COLUMNS: &'static str;
    /// What a search may filter and sort on.
    const FIELDS: &'static [FieldSpec];
    const DEFAULT_SORT: &'static [(&'static str, Direction)];
}

#[derive(Debug, Clone, Copy)]
pub struct Instagram;
#[derive(Debug, Clone, Copy)]
pub struct Youtube;

impl ProfileTable for Instagram {
    const TABLE: &'static str = "instagram_account";
    const COLUMNS: &'static str =
        "'instagram' AS platform, id, ig_id AS external_id, handle, full_name AS name, biography AS bio, category, \
        country::text AS country, language, followers, posts_count AS posts, engagement_rate, avg_likes, avg_comments, \
        avg_reel_views AS avg_views, is_verified, profile_pic_url AS picture_url, email, phone, contact, \
        audience_demographics, last_scraped_at, updated_at";
    const FIELDS: &'static [FieldSpec] = INSTAGRAM_FIELDS;
    const DEFAULT_SORT: &'static [(&'static str, Direction)] = &[("followers", Direction::Desc)];
}

impl ProfileTable for Youtube {
    const TABLE: &'static str = "youtube_account";
    const COLUMNS: &'static str = "'youtube' AS platform, id, channel_id AS external_id, handle, title AS name, description AS bio, category, \
        country::text AS country, language, subscribers AS followers, videos_count AS posts, engagement_rate, avg_likes, \
        avg_comments, avg_views, false AS is_verified, thumbnail_url AS picture_url, email, phone, contact, \
        audience_demographics, last_scraped_at, updated_at";
    const FIELDS: &'static [FieldSpec] = YOUTUBE_FIELDS;
    const DEFAULT_SORT: &'static [(&'static str, Direction)] = &[("subscribers", Direction::Desc)];
}

/// Runs `$body` with `$table` naming the profile table of `$platform` (`Instagram` or
/// `Youtube`): the one place a platform picks its table, so each rule is written once.
macro_rules! per_table {
    ($platform:expr, |$table:ident| $body:expr) => {
        match $platform {
            $crate::domain::Platform::Instagram => {
                type $table = $crate::modules::profile::entity::Instagram;
                $body
            }
            $crate::domain::Platform::Youtube => {
                type $table = $crate::modules::profile::entity::Youtube;
                $body
            }
        }
    };
}
pub(crate) use per_table;

/// A creator profile as stored: the DTO every response shows, read straight from the
/// platform's table through its aliased columns, and the table it came from.
#[derive(Debug, Clone, FromRow)]
pub struct ProfileRow<T> {
    #[sqlx(flatten)]
    pub profile: ProfileDto,
    #[sqlx(skip)]
    pub table: PhantomData<T>,
}

impl<T: ProfileTable> Entity for ProfileRow<T> {
    type Id = i64;
    const TABLE: &'static str = T::TABLE;
    const ID: &'static str = "id";
    const COLUMNS: &'static str = T::COLUMNS;
    const DEFAULT_SORT: &'static [(&'static str, Direction)] = T::DEFAULT_SORT;
}

macro_rules! common_fields {
    ($followers:literal, $name:literal) => {
        &[
            FieldSpec { name: "followers", column: $followers, ty: FieldType::Int, ops: Op::ORDERED, sortable: true },
            FieldSpec {
                name: "engagement_rate",
                column: "engagement_rate",
                ty: FieldType::Float,
                ops: Op::ORDERED,
                sortable: true,
            },
            FieldSpec {
                name: "avg_likes",
                column: "avg_likes",
                ty: FieldType::Float,
                ops: Op::ORDERED,
                sortable: true,
            },
            FieldSpec { name: "category", column: "category", ty: FieldType::Text, ops: Op::EQUALITY, sortable: false },
            FieldSpec { name: "country", column: "country", ty: FieldType::Text, ops: Op::EQUALITY, sortable: false },
            FieldSpec { name: "language", column: "language", ty: FieldType::Text, ops: Op::EQUALITY, sortable: false },
            FieldSpec { name: "handle", column: "handle", ty: FieldType::Text, ops: Op::TEXT, sortable: true },
            FieldSpec { name: "name", column: $name, ty: FieldType::Text, ops: Op::TEXT, sortable: true },
            FieldSpec {
                name: "text",
                column: concat!("(handle || ' ' || ", $name, ")"),
                ty: FieldType::Text,
                ops: Op::TEXT,
                sortable: false,
            },
        ]
    };
}

pub const INSTAGRAM_FIELDS: &[FieldSpec] = common_fields!("followers", "full_name");
pub const YOUTUBE_FIELDS: &[FieldSpec] = common_fields!("subscribers", "title");
