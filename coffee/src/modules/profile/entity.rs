//! Profile rows, one type per platform table, and the fields clients may search on.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use crate::core::dao::{Direction, Entity, FieldSpec, FieldType, Op};

#[derive(Debug, Clone, FromRow)]
pub struct InstagramAccount {
    pub id: i64,
    pub ig_id: String,
    pub handle: String,
    pub full_name: String,
    pub biography: String,
    pub category: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
    pub followers: i64,
    pub following: i64,
    pub posts_count: i32,
    pub engagement_rate: f32,
    pub avg_likes: f64,
    pub avg_comments: f64,
    pub avg_reel_views: f64,
    pub is_verified: bool,
    pub profile_pic_url: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub contact: Option<serde_json::Value>,
    pub audience_demographics: Option<serde_json::Value>,
    pub last_scraped_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl Entity for InstagramAccount {
    type Id = i64;
    const TABLE: &'static str = "instagram_account";
    const ID: &'static str = "id";
    const COLUMNS: &'static str = "id, ig_id, handle, full_name, biography, category, country::text AS country, language, followers, \
        following, posts_count, engagement_rate, avg_likes, avg_comments, avg_reel_views, is_verified, profile_pic_url, email, phone, \
        contact, audience_demographics, last_scraped_at, updated_at";
    const DEFAULT_SORT: &'static [(&'static str, Direction)] = &[("followers", Direction::Desc)];
}

#[derive(Debug, Clone, FromRow)]
pub struct YoutubeAccount {
    pub id: i64,
    pub channel_id: String,
    pub handle: String,
    pub title: String,
    pub description: String,
    pub category: Option<String>,
    pub country: Option<String>,
    pub language: Option<String>,
    pub subscribers: i64,
    pub total_views: i64,
    pub videos_count: i32,
    pub engagement_rate: f32,
    pub avg_views: f64,
    pub avg_likes: f64,
    pub avg_comments: f64,
    pub thumbnail_url: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub contact: Option<serde_json::Value>,
    pub audience_demographics: Option<serde_json::Value>,
    pub last_scraped_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl Entity for YoutubeAccount {
    type Id = i64;
    const TABLE: &'static str = "youtube_account";
    const ID: &'static str = "id";
    const COLUMNS: &'static str = "id, channel_id, handle, title, description, category, country::text AS country, language, subscribers, \
        total_views, videos_count, engagement_rate, avg_views, avg_likes, avg_comments, thumbnail_url, email, phone, contact, \
        audience_demographics, last_scraped_at, updated_at";
    const DEFAULT_SORT: &'static [(&'static str, Direction)] = &[("subscribers", Direction::Desc)];
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
