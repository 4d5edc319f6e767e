-- A logout is recorded in Postgres first and then in Redis (tombstone + delete + announce).
-- When the Redis step fails, the session stays marked here until a propagator records it.
ALTER TABLE user_session ADD COLUMN revocation_pending BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX user_session_revocation_pending_idx ON user_session (revoked_at) WHERE revocation_pending;
