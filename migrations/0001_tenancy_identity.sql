-- Tenancy and identity: partners (brands/agencies), their contracts, teams, users and sessions.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TABLE partner (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug        TEXT        NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    status      TEXT        NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'SUSPENDED', 'CLOSED')),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TRIGGER partner_updated_at BEFORE UPDATE ON partner FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- A partner's plan comes from its SAAS contract valid today (the gateway resolves it); no
-- valid SAAS contract means FREE.
CREATE TABLE partner_contract (
    id                        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id                BIGINT      NOT NULL REFERENCES partner (id) ON DELETE CASCADE,
    contract_type             TEXT        NOT NULL CHECK (contract_type IN ('SAAS', 'API', 'CAMPAIGN')),
    plan                      TEXT        NOT NULL CHECK (plan IN ('FREE', 'SAAS', 'PAID')),
    start_date                TIMESTAMPTZ NOT NULL,
    end_date                  TIMESTAMPTZ NOT NULL,
    monthly_profile_view_quota INTEGER    CHECK (monthly_profile_view_quota >= 0),
    created_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (end_date > start_date)
);
CREATE INDEX partner_contract_partner_idx ON partner_contract (partner_id, contract_type, end_date DESC);
CREATE TRIGGER partner_contract_updated_at BEFORE UPDATE ON partner_contract FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- A team inside a partner (the original's sub-tenant "account").
CREATE TABLE account (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id  BIGINT      NOT NULL REFERENCES partner (id) ON DELETE CASCADE,
    name        TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (partner_id, name),
    UNIQUE (id, partner_id)
);
CREATE TRIGGER account_updated_at BEFORE UPDATE ON account FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE users (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id     BIGINT      NOT NULL REFERENCES partner (id) ON DELETE CASCADE,
    account_id     BIGINT,
    email          TEXT        NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$' AND length(email) <= 320),
    name           TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- argon2id PHC string
    password_hash  TEXT        NOT NULL CHECK (password_hash LIKE '$argon2%'),
    status         TEXT        NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DISABLED')),
    last_login_at  TIMESTAMPTZ,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- a user's team must belong to the user's partner
    FOREIGN KEY (account_id, partner_id) REFERENCES account (id, partner_id)
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_partner_idx ON users (partner_id);
CREATE TRIGGER users_updated_at BEFORE UPDATE ON users FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- One row per login; `id` is the JWT's `sid`. Redis holds `session:{id}` with the same TTL.
CREATE TABLE user_session (
    id           UUID        PRIMARY KEY,
    user_id      BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    partner_id   BIGINT      NOT NULL REFERENCES partner (id) ON DELETE CASCADE,
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    user_agent   TEXT,
    ip           INET,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (expires_at > created_at)
);
CREATE INDEX user_session_user_idx ON user_session (user_id, created_at DESC);
CREATE INDEX user_session_live_idx ON user_session (expires_at) WHERE revoked_at IS NULL;
CREATE TRIGGER user_session_updated_at BEFORE UPDATE ON user_session FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Devices seen through x-bb-device-id.
CREATE TABLE device (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    device_id     TEXT        NOT NULL UNIQUE CHECK (length(device_id) BETWEEN 1 AND 128),
    client_type   TEXT,
    user_id       BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    first_seen_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_seen_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TRIGGER device_updated_at BEFORE UPDATE ON device FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- Keys for the partner API (x-bb-client-id); only a hash is stored.
CREATE TABLE partner_api_key (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    partner_id  BIGINT      NOT NULL REFERENCES partner (id) ON DELETE CASCADE,
    name        TEXT        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    client_id   TEXT        NOT NULL UNIQUE,
    key_hash    TEXT        NOT NULL,
    revoked_at  TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX partner_api_key_partner_idx ON partner_api_key (partner_id);
CREATE TRIGGER partner_api_key_updated_at BEFORE UPDATE ON partner_api_key FOR EACH ROW EXECUTE FUNCTION set_updated_at();
