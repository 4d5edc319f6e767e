-- Leaderboard snapshots and the Postgres copy of the profile time series (the benchmark
-- baseline against ClickHouse; ClickHouse is the store analytics read from).

CREATE TABLE leaderboard (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform     TEXT        NOT NULL CHECK (platform IN ('instagram', 'youtube')),
    month        DATE        NOT NULL CHECK (month = date_trunc('month', month)::date),
    metric       TEXT        NOT NULL CHECK (metric IN ('followers', 'engagement_rate', 'views', 'follower_growth')),
    -- '' means all categories
    category     TEXT        NOT NULL DEFAULT '',
    rank         INTEGER     NOT NULL CHECK (rank >= 1),
    profile_id   BIGINT      NOT NULL,
    value        DOUBLE PRECISION NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (platform, month, metric, category, rank),
    UNIQUE (platform, month, metric, category, profile_id)
);
CREATE TRIGGER leaderboard_updated_at BEFORE UPDATE ON leaderboard FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE social_profile_time_series (
    platform         TEXT        NOT NULL CHECK (platform IN ('instagram', 'youtube')),
    profile_id       BIGINT      NOT NULL,
    date             DATE        NOT NULL,
    followers        BIGINT      NOT NULL CHECK (followers >= 0),
    following        BIGINT      NOT NULL CHECK (following >= 0),
    posts            INTEGER     NOT NULL CHECK (posts >= 0),
    engagement_rate  REAL        NOT NULL CHECK (engagement_rate >= 0),
    avg_likes        DOUBLE PRECISION NOT NULL CHECK (avg_likes >= 0),
    avg_comments     DOUBLE PRECISION NOT NULL CHECK (avg_comments >= 0),
    avg_views        DOUBLE PRECISION NOT NULL CHECK (avg_views >= 0),
    category         TEXT        NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, profile_id, date)
);
-- per-platform month scans (growth, leaderboards)
CREATE INDEX social_profile_time_series_platform_date_idx ON social_profile_time_series (platform, date);

CREATE TABLE post_metrics_time_series (
    platform     TEXT        NOT NULL CHECK (platform IN ('instagram', 'youtube')),
    post_id      BIGINT      NOT NULL,
    profile_id   BIGINT      NOT NULL,
    date         DATE        NOT NULL,
    likes        BIGINT      NOT NULL CHECK (likes >= 0),
    comments     BIGINT      NOT NULL CHECK (comments >= 0),
    views        BIGINT      NOT NULL CHECK (views >= 0),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, post_id, date)
);
CREATE INDEX post_metrics_time_series_profile_idx ON post_metrics_time_series (platform, profile_id, date);
