//! What differs between profile and post collections: tables, and what an item points at.

use crate::domain::Platform;

pub trait CollectionKind: Send + Sync + 'static {
    /// Human name, for messages ("collection", "post collection").
    const NAME: &'static str;
    const TABLE: &'static str;
    const ITEM_TABLE: &'static str;
    /// The unique index on a partner's collection names (case-insensitive).
    const NAME_KEY: &'static str;
    /// The item's foreign-key column for each platform.
    fn item_column(platform: Platform) -> &'static str;
    /// The unique constraint that keeps a target once per collection (Postgres names an
    /// unnamed `UNIQUE (collection_id, column)` `<table>_collection_id_<column>_key`).
    fn item_key(platform: Platform) -> String {
        format!("{}_collection_id_{}_key", Self::ITEM_TABLE, Self::item_column(platform))
    }
    /// The table an item of `platform` points into.
    fn target_table(platform: Platform) -> &'static str;
    /// What an item points at, for messages ("profile", "post").
    const TARGET: &'static str;
    /// The collection select list (with a live item count).
    const COLLECTION_COLUMNS: &'static str;
    /// The item select list (`target_id` is whichever platform column is set).
    const ITEM_COLUMNS: &'static str;
}

pub struct Profiles;
pub struct Posts;

impl CollectionKind for Profiles {
    const NAME: &'static str = "collection";
    const TABLE: &'static str = "profile_collection";
    const ITEM_TABLE: &'static str = "profile_collection_item";
    const NAME_KEY: &'static str = "profile_collection_name_key";
    const TARGET: &'static str = "profile";
    const COLLECTION_COLUMNS: &'static str = "id, partner_id, created_by, name, description, \
        (SELECT count(*) FROM profile_collection_item i WHERE i.collection_id = profile_collection.id) AS item_count, created_at, updated_at";
    const ITEM_COLUMNS: &'static str =
        "id, collection_id, platform, COALESCE(instagram_account_id, youtube_account_id) AS target_id, added_by, note, created_at";
    fn item_column(platform: Platform) -> &'static str {
        match platform {
            Platform::Instagram => "instagram_account_id",
            Platform::Youtube => "youtube_account_id",
        }
    }
    fn target_table(platform: Platform) -> &'static str {
        match platform {
            Platform::Instagram => "instagram_account",
            Platform::Youtube => "youtube_account",
        }
    }
}

impl CollectionKind for Posts {
    const NAME: &'static str = "post collection";
    const TABLE: &'static str = "post_collection";
    const ITEM_TABLE: &'static str = "post_collection_item";
    const NAME_KEY: &'static str = "post_collection_name_key";
    const TARGET: &'static str = "post";
    const COLLECTION_COLUMNS: &'static str = "id, partner_id, created_by, name, description, \
        (SELECT count(*) FROM post_collection_item i WHERE i.collection_id = post_collection.id) AS item_count, created_at, updated_at";
    const ITEM_COLUMNS: &'static str =
        "id, collection_id, platform, COALESCE(instagram_post_id, youtube_video_id) AS target_id, added_by, note, created_at";
    fn item_column(platform: Platform) -> &'static str {
        match platform {
            Platform::Instagram => "instagram_post_id",
            Platform::Youtube => "youtube_video_id",
        }
    }
    fn target_table(platform: Platform) -> &'static str {
        match platform {
            Platform::Instagram => "instagram_post",
            Platform::Youtube => "youtube_video",
        }
    }
}
