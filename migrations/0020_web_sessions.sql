-- +goose Up
-- Sign-in sessions of the web UI (internal/session). The browser holds a
-- random 256-bit secret in a cookie; only its SHA-256 is stored here, so
-- a copy of this table signs nobody in. id is the public name of a
-- session (the "your sessions" page ends one by it). A session ends after
-- idle_timeout without a request (last_seen_at) or at expires_at (the
-- absolute lifetime), whichever comes first; an ended session's row is
-- deleted.
CREATE TABLE web_sessions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    secret_hash  bytea       NOT NULL,
    user_id      uuid        NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    remote_addr  text        NOT NULL DEFAULT '',
    user_agent   text        NOT NULL DEFAULT '',
    CONSTRAINT web_sessions_secret_hash_key UNIQUE (secret_hash)
);
CREATE INDEX web_sessions_user_idx ON web_sessions (user_id, created_at DESC);
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);

-- +goose Down
DROP TABLE web_sessions;
