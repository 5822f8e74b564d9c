-- +goose Up
-- One-time password reset links (internal/identity: reset.go). Only the
-- SHA-256 of a link's token is stored; a link is used once, expires, and
-- is void once the user is disabled or another link is issued.
CREATE TABLE password_resets (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id       uuid NOT NULL REFERENCES users (id),
    hash          bytea NOT NULL,
    issued_by     text NOT NULL,
    issued_by_id  uuid REFERENCES users (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    voided_at     timestamptz,
    CONSTRAINT password_resets_hash_key UNIQUE (hash)
);
CREATE INDEX password_resets_user_idx ON password_resets (user_id) WHERE used_at IS NULL AND voided_at IS NULL;

-- What the failures of a throttle window were, counted per reason
-- ("unknown token": 41), for the one audit entry that summarises the
-- window (internal/throttle: sweep.go).
ALTER TABLE auth_throttle ADD COLUMN reasons jsonb NOT NULL DEFAULT '{}';
CREATE INDEX auth_throttle_unaudited_idx ON auth_throttle (scope, window_start) WHERE audited_at IS NULL;

-- Disabling a user now revokes their tokens (security review, finding 10).
-- Users disabled before this change still have live tokens that enabling
-- them again would revive: revoke those now, and say so in the audit log.
INSERT INTO audit_log (actor, action, target_type, target_id, data)
SELECT 'certdesk', 'token.revoked', 'token', t.id::text,
       jsonb_build_object('user_id', t.user_id, 'reason', 'user disabled')
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE u.disabled_at IS NOT NULL AND t.revoked_at IS NULL;
UPDATE api_tokens t SET revoked_at = u.disabled_at
FROM users u WHERE u.id = t.user_id AND u.disabled_at IS NOT NULL AND t.revoked_at IS NULL;

-- +goose Down
DROP INDEX auth_throttle_unaudited_idx;
ALTER TABLE auth_throttle DROP COLUMN reasons;
DROP TABLE password_resets;
