-- Partner-owned collections of profiles and of posts. Items reference the real profile/post row
-- of their platform (exactly one of the two foreign keys is set, matching `platform`).

CREATE TABLE profile_collection (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id   BIGINT      NOT NULL REFERENCES partner (id) ON DELETE CASCADE,
    created_by   BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    name         TEXT        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    description  TEXT        NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX profile_collection_name_key ON profile_collection (partner_id, lower(name));
CREATE INDEX profile_collection_partner_idx ON profile_collection (partner_id, updated_at DESC);
CREATE TRIGGER profile_collection_updated_at BEFORE UPDATE ON profile_collection FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE profile_collection_item (
    id                    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection_id         BIGINT      NOT NULL REFERENCES profile_collection (id) ON DELETE CASCADE,
    platform              TEXT        NOT NULL CHECK (platform IN ('instagram', 'youtube')),
    instagram_account_id  BIGINT      REFERENCES instagram_account (id) ON DELETE CASCADE,
    youtube_account_id    BIGINT      REFERENCES youtube_account (id) ON DELETE CASCADE,
    added_by              BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    note                  TEXT        NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((platform = 'instagram' AND instagram_account_id IS NOT NULL AND youtube_account_id IS NULL)
        OR (platform = 'youtube' AND youtube_account_id IS NOT NULL AND instagram_account_id IS NULL)),
    UNIQUE (collection_id, instagram_account_id),
    UNIQUE (collection_id, youtube_account_id)
);
CREATE INDEX profile_collection_item_collection_idx ON profile_collection_item (collection_id, created_at);
CREATE INDEX profile_collection_item_ig_idx ON profile_collection_item (instagram_account_id) WHERE instagram_account_id IS NOT NULL;
CREATE INDEX profile_collection_item_yt_idx ON profile_collection_item (youtube_account_id) WHERE youtube_account_id IS NOT NULL;
CREATE TRIGGER profile_collection_item_updated_at BEFORE UPDATE ON profile_collection_item FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE post_collection (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id   BIGINT      NOT NULL REFERENCES partner (id) ON DELETE CASCADE,
    created_by   BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    name         TEXT        NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
    description  TEXT        NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX post_collection_name_key ON post_collection (partner_id, lower(name));
CREATE INDEX post_collection_partner_idx ON post_collection (partner_id, updated_at DESC);
CREATE TRIGGER post_collection_updated_at BEFORE UPDATE ON post_collection FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE post_collection_item (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    collection_id      BIGINT      NOT NULL REFERENCES post_collection (id) ON DELETE CASCADE,
    platform           TEXT        NOT NULL CHECK (platform IN ('instagram', 'youtube')),
    instagram_post_id  BIGINT      REFERENCES instagram_post (id) ON DELETE CASCADE,
    youtube_video_id   BIGINT      REFERENCES youtube_video (id) ON DELETE CASCADE,
    added_by           BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    note               TEXT        NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((platform = 'instagram' AND instagram_post_id IS NOT NULL AND youtube_video_id IS NULL)
        OR (platform = 'youtube' AND youtube_video_id IS NOT NULL AND instagram_post_id IS NULL)),
    UNIQUE (collection_id, instagram_post_id),
    UNIQUE (collection_id, youtube_video_id)
);
CREATE INDEX post_collection_item_collection_idx ON post_collection_item (collection_id, created_at);
CREATE TRIGGER post_collection_item_updated_at BEFORE UPDATE ON post_collection_item FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Totals over a post collection, recomputed when its items change.
CREATE TABLE collection_post_metrics_summary (
    post_collection_id   BIGINT      PRIMARY KEY REFERENCES post_collection (id) ON DELETE CASCADE,
    total_posts          INTEGER     NOT NULL DEFAULT 0 CHECK (total_posts >= 0),
    total_likes          BIGINT      NOT NULL DEFAULT 0 CHECK (total_likes >= 0),
    total_comments       BIGINT      NOT NULL DEFAULT 0 CHECK (total_comments >= 0),
    total_views          BIGINT      NOT NULL DEFAULT 0 CHECK (total_views >= 0),
    avg_engagement_rate  REAL        NOT NULL DEFAULT 0 CHECK (avg_engagement_rate >= 0),
    computed_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TRIGGER collection_post_metrics_summary_updated_at BEFORE UPDATE ON collection_post_metrics_summary FOR EACH ROW EXECUTE FUNCTION set_updated_at();
