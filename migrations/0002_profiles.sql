-- Creator profiles and their content, one table per platform (their fields differ).
-- email, phone, contact and audience_demographics are premium fields: FREE plans see them null.

CREATE TABLE category (
    slug        TEXT        PRIMARY KEY CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name        TEXT        NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TRIGGER category_updated_at BEFORE UPDATE ON category FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE instagram_account (
    id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ig_id                  TEXT        NOT NULL UNIQUE,
    handle                 TEXT        NOT NULL CHECK (handle ~ '^[A-Za-z0-9._]{1,30}$'),
    full_name              TEXT        NOT NULL DEFAULT '',
    biography              TEXT        NOT NULL DEFAULT '',
    category               TEXT        REFERENCES category (slug),
    country                CHAR(2)     CHECK (country ~ '^[A-Z]{2}$'),
    language               TEXT        CHECK (language ~ '^[a-z]{2}$'),
    city                   TEXT,
    followers              BIGINT      NOT NULL DEFAULT 0 CHECK (followers >= 0),
    following              BIGINT      NOT NULL DEFAULT 0 CHECK (following >= 0),
    posts_count            INTEGER     NOT NULL DEFAULT 0 CHECK (posts_count >= 0),
    engagement_rate        REAL        NOT NULL DEFAULT 0 CHECK (engagement_rate >= 0),
    avg_likes              DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (avg_likes >= 0),
    avg_comments           DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (avg_comments >= 0),
    avg_reel_views         DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (avg_reel_views >= 0),
    is_verified            BOOLEAN     NOT NULL DEFAULT false,
    is_business            BOOLEAN     NOT NULL DEFAULT false,
    profile_pic_url        TEXT,
    email                  TEXT,
    phone                  TEXT,
    contact                JSONB,
    audience_demographics  JSONB,
    last_scraped_at        TIMESTAMPTZ,
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX instagram_account_handle_key ON instagram_account (lower(handle));
CREATE INDEX instagram_account_followers_idx ON instagram_account (followers DESC, id);
CREATE INDEX instagram_account_er_idx ON instagram_account (engagement_rate DESC, id);
CREATE INDEX instagram_account_category_idx ON instagram_account (category, followers DESC);
CREATE INDEX instagram_account_country_idx ON instagram_account (country, followers DESC);
CREATE INDEX instagram_account_text_idx ON instagram_account USING gin ((handle || ' ' || full_name) gin_trgm_ops);
CREATE TRIGGER instagram_account_updated_at BEFORE UPDATE ON instagram_account FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE youtube_account (
    id                     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel_id             TEXT        NOT NULL UNIQUE CHECK (channel_id ~ '^UC[A-Za-z0-9_-]{22}$'),
    handle                 TEXT        NOT NULL CHECK (handle ~ '^[A-Za-z0-9._-]{3,30}$'),
    title                  TEXT        NOT NULL DEFAULT '',
    description            TEXT        NOT NULL DEFAULT '',
    category               TEXT        REFERENCES category (slug),
    country                CHAR(2)     CHECK (country ~ '^[A-Z]{2}$'),
    language               TEXT        CHECK (language ~ '^[a-z]{2}$'),
    subscribers            BIGINT      NOT NULL DEFAULT 0 CHECK (subscribers >= 0),
    total_views            BIGINT      NOT NULL DEFAULT 0 CHECK (total_views >= 0),
    videos_count           INTEGER     NOT NULL DEFAULT 0 CHECK (videos_count >= 0),
    engagement_rate        REAL        NOT NULL DEFAULT 0 CHECK (engagement_rate >= 0),
    avg_views              DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (avg_views >= 0),
    avg_likes              DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (avg_likes >= 0),
    avg_comments           DOUBLE PRECISION NOT NULL DEFAULT 0 CHECK (avg_comments >= 0),
    thumbnail_url          TEXT,
    email                  TEXT,
    phone                  TEXT,
    contact                JSONB,
    audience_demographics  JSONB,
    last_scraped_at        TIMESTAMPTZ,
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX youtube_account_handle_key ON youtube_account (lower(handle));
CREATE INDEX youtube_account_subscribers_idx ON youtube_account (subscribers DESC, id);
CREATE INDEX youtube_account_er_idx ON youtube_account (engagement_rate DESC, id);
CREATE INDEX youtube_account_category_idx ON youtube_account (category, subscribers DESC);
CREATE INDEX youtube_account_country_idx ON youtube_account (country, subscribers DESC);
CREATE INDEX youtube_account_text_idx ON youtube_account USING gin ((handle || ' ' || title) gin_trgm_ops);
CREATE TRIGGER youtube_account_updated_at BEFORE UPDATE ON youtube_account FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE instagram_post (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shortcode     TEXT        NOT NULL UNIQUE CHECK (shortcode ~ '^[A-Za-z0-9_-]{5,40}$'),
    account_id    BIGINT      NOT NULL REFERENCES instagram_account (id) ON DELETE CASCADE,
    post_type     TEXT        NOT NULL CHECK (post_type IN ('IMAGE', 'CAROUSEL', 'REEL', 'VIDEO')),
    caption       TEXT        NOT NULL DEFAULT '',
    posted_at     TIMESTAMPTZ NOT NULL,
    likes         BIGINT      NOT NULL DEFAULT 0 CHECK (likes >= 0),
    comments      BIGINT      NOT NULL DEFAULT 0 CHECK (comments >= 0),
    views         BIGINT      NOT NULL DEFAULT 0 CHECK (views >= 0),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX instagram_post_account_idx ON instagram_post (account_id, posted_at DESC);
CREATE TRIGGER instagram_post_updated_at BEFORE UPDATE ON instagram_post FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE youtube_video (
    id                BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    video_id          TEXT        NOT NULL UNIQUE CHECK (video_id ~ '^[A-Za-z0-9_-]{11}$'),
    account_id        BIGINT      NOT NULL REFERENCES youtube_account (id) ON DELETE CASCADE,
    title             TEXT        NOT NULL DEFAULT '',
    published_at      TIMESTAMPTZ NOT NULL,
    duration_seconds  INTEGER     NOT NULL DEFAULT 0 CHECK (duration_seconds >= 0),
    views             BIGINT      NOT NULL DEFAULT 0 CHECK (views >= 0),
    likes             BIGINT      NOT NULL DEFAULT 0 CHECK (likes >= 0),
    comments          BIGINT      NOT NULL DEFAULT 0 CHECK (comments >= 0),
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX youtube_video_account_idx ON youtube_video (account_id, published_at DESC);
CREATE TRIGGER youtube_video_updated_at BEFORE UPDATE ON youtube_video FOR EACH ROW EXECUTE FUNCTION set_updated_at();
