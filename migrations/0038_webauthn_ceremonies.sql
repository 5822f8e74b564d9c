-- +goose Up
-- The passkey ceremonies under way (issue 16): the challenge certdesk
-- sent to a browser and what go-webauthn needs to check the answer
-- (its SessionData, as JSON). A ceremony belongs to the browser that
-- began it: binding is the SHA-256 of that browser's session secret (or,
-- signed out, its pre-session secret), so no other browser can finish
-- it. At most one ceremony of each kind per browser (a new one replaces
-- the old); it is taken (deleted) when the answer comes, whatever the
-- answer, and it is good for five minutes. Expired rows are removed
-- whenever a ceremony begins.
CREATE TABLE webauthn_ceremonies (
    binding    bytea       NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('register', 'signin', 'second_factor')),
    user_id    uuid REFERENCES users (id) ON DELETE CASCADE,
    data       jsonb       NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (binding, kind)
);
CREATE INDEX webauthn_ceremonies_expires_idx ON webauthn_ceremonies (expires_at);

-- +goose Down
DROP TABLE webauthn_ceremonies;
