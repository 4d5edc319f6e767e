-- beat's tables: provider credentials with TTL back-off, per-source limits, the task queue and
-- the request log.

CREATE TABLE scrape_source (
    source           TEXT        PRIMARY KEY CHECK (source ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    platform         TEXT        NOT NULL CHECK (platform IN ('instagram', 'youtube')),
    requests         INTEGER     NOT NULL CHECK (requests > 0),
    per_seconds      INTEGER     NOT NULL CHECK (per_seconds > 0),
    enabled          BOOLEAN     NOT NULL DEFAULT true,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TRIGGER scrape_source_updated_at BEFORE UPDATE ON scrape_source FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE credential (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source          TEXT        NOT NULL REFERENCES scrape_source (source) ON DELETE CASCADE,
    key             TEXT        NOT NULL CHECK (length(key) BETWEEN 1 AND 500),
    enabled         BOOLEAN     NOT NULL DEFAULT true,
    disabled_till   TIMESTAMPTZ,
    failure_count   INTEGER     NOT NULL DEFAULT 0 CHECK (failure_count >= 0),
    last_used_at    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (source, key)
);
CREATE INDEX credential_usable_idx ON credential (source, disabled_till) WHERE enabled;
CREATE TRIGGER credential_updated_at BEFORE UPDATE ON credential FOR EACH ROW EXECUTE FUNCTION set_updated_at();

-- The work queue. Workers claim with FOR UPDATE SKIP LOCKED and hold a lease; an expired lease
-- makes the task claimable again.
CREATE TABLE scrape_task (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    flow           TEXT        NOT NULL CHECK (flow ~ '^[a-z][a-z0-9_]{0,63}$'),
    platform       TEXT        NOT NULL CHECK (platform IN ('instagram', 'youtube')),
    target         TEXT        NOT NULL CHECK (length(target) BETWEEN 1 AND 200),
    priority       SMALLINT    NOT NULL DEFAULT 0,
    status         TEXT        NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'RUNNING', 'SUCCEEDED', 'FAILED')),
    attempts       INTEGER     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts   INTEGER     NOT NULL DEFAULT 5 CHECK (max_attempts >= 1),
    run_after      TIMESTAMPTZ NOT NULL DEFAULT now(),
    locked_by      TEXT,
    lease_until    TIMESTAMPTZ,
    last_error     TEXT,
    payload        JSONB       NOT NULL DEFAULT '{}'::jsonb,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((status = 'RUNNING') = (lease_until IS NOT NULL))
);
CREATE INDEX scrape_task_ready_idx ON scrape_task (priority DESC, run_after, id) WHERE status = 'PENDING';
CREATE INDEX scrape_task_lease_idx ON scrape_task (lease_until) WHERE status = 'RUNNING';
-- at most one open task per flow and target
CREATE UNIQUE INDEX scrape_task_open_key ON scrape_task (flow, platform, target) WHERE status IN ('PENDING', 'RUNNING');
CREATE TRIGGER scrape_task_updated_at BEFORE UPDATE ON scrape_task FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE scrape_request_log (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id         BIGINT      REFERENCES scrape_task (id) ON DELETE SET NULL,
    source          TEXT        NOT NULL,
    credential_id   BIGINT      REFERENCES credential (id) ON DELETE SET NULL,
    endpoint        TEXT        NOT NULL,
    status_code     SMALLINT,
    duration_ms     INTEGER     NOT NULL CHECK (duration_ms >= 0),
    error           TEXT,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX scrape_request_log_source_idx ON scrape_request_log (source, created_at DESC);
CREATE INDEX scrape_request_log_task_idx ON scrape_request_log (task_id) WHERE task_id IS NOT NULL;
