-- +goose Up
-- One-time links that reset a person's second factors (issue 16: losing
-- a factor). An administrator of the person's organisation issues one;
-- using it removes the person's authenticator app, recovery codes and
-- passkeys and ends their sessions, so that they set up again at their
-- next sign-in. As with password_resets, only the SHA-256 of the token is
-- stored; a link is used once, expires, and is void once another is issued.
CREATE TABLE factor_resets (
    id            uuid PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash          bytea NOT NULL,
    issued_by     text NOT NULL,
    issued_by_id  uuid REFERENCES users (id),
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    voided_at     timestamptz,
    CONSTRAINT factor_resets_hash_key UNIQUE (hash)
);
CREATE INDEX factor_resets_user_idx ON factor_resets (user_id) WHERE used_at IS NULL AND voided_at IS NULL;

-- +goose Down
DROP TABLE factor_resets;
