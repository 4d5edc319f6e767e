-- Partner API keys, issued and revoked by a partner's users (coffee's api_key module) and
-- checked by the gateway. Only SHA-256 of a key is kept (hex); `shown` is its first 12
-- characters (`bb_live_` and 4 more), enough to tell keys apart in a list.
ALTER TABLE partner_api_key
    ADD COLUMN shown              TEXT        NOT NULL DEFAULT '' CHECK (shown = '' OR shown LIKE 'bb\_live\_%'),
    ADD COLUMN scope              TEXT        NOT NULL DEFAULT 'read' CHECK (scope IN ('read', 'read_write')),
    ADD COLUMN expires_at         TIMESTAMPTZ,
    ADD COLUMN last_used_at       TIMESTAMPTZ,
    ADD COLUMN created_by         BIGINT      REFERENCES users (id) ON DELETE SET NULL,
    -- the key this one replaced (rotation: both work until the old one is revoked)
    ADD COLUMN rotated_from       BIGINT      REFERENCES partner_api_key (id) ON DELETE SET NULL,
    -- a revocation recorded here and not yet in Redis (the propagator retries it)
    ADD COLUMN revocation_pending BOOLEAN     NOT NULL DEFAULT false,
    ADD CONSTRAINT partner_api_key_hash_shape CHECK (key_hash ~ '^[0-9a-f]{64}$');
CREATE UNIQUE INDEX partner_api_key_hash_idx ON partner_api_key (key_hash);
CREATE INDEX partner_api_key_revocation_pending_idx ON partner_api_key (revoked_at) WHERE revocation_pending;
