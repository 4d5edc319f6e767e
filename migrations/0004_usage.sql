-- What partners do: every profile page view is tracked, counted per month, and checked against
-- the FREE plan's quota.

CREATE TABLE partner_usage (
    partner_id          BIGINT      NOT NULL REFERENCES partner (id) ON DELETE CASCADE,
    month               DATE        NOT NULL CHECK (month = date_trunc('month', month)::date),
    profile_views       INTEGER     NOT NULL DEFAULT 0 CHECK (profile_views >= 0),
    unique_profiles     INTEGER     NOT NULL DEFAULT 0 CHECK (unique_profiles >= 0),
    searches            INTEGER     NOT NULL DEFAULT 0 CHECK (searches >= 0),
    exports             INTEGER     NOT NULL DEFAULT 0 CHECK (exports >= 0),
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (partner_id, month)
);
CREATE TRIGGER partner_usage_updated_at BEFORE UPDATE ON partner_usage FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- One row per partner, profile and month; view_count counts repeat visits.
CREATE TABLE partner_profile_page_track (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id       BIGINT      NOT NULL REFERENCES partner (id) ON DELETE CASCADE,
    user_id          BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    platform         TEXT        NOT NULL CHECK (platform IN ('instagram', 'youtube')),
    profile_id       BIGINT      NOT NULL,
    month            DATE        NOT NULL CHECK (month = date_trunc('month', month)::date),
    view_count       INTEGER     NOT NULL DEFAULT 1 CHECK (view_count >= 1),
    first_viewed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_viewed_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (partner_id, platform, profile_id, month)
);
CREATE INDEX partner_profile_page_track_month_idx ON partner_profile_page_track (partner_id, month);
CREATE TRIGGER partner_profile_page_track_updated_at BEFORE UPDATE ON partner_profile_page_track FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- An append-only audit of partner activity.
CREATE TABLE activity_tracker (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id     BIGINT      NOT NULL REFERENCES partner (id) ON DELETE CASCADE,
    user_id        BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    activity_type  TEXT        NOT NULL CHECK (activity_type ~ '^[A-Z][A-Z_]{0,63}$'),
    entity_type    TEXT,
    entity_id      BIGINT,
    platform       TEXT        CHECK (platform IN ('instagram', 'youtube')),
    metadata       JSONB       NOT NULL DEFAULT '{}'::jsonb,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX activity_tracker_partner_idx ON activity_tracker (partner_id, created_at DESC);
CREATE INDEX activity_tracker_type_idx ON activity_tracker (activity_type, created_at DESC);
