-- +goose Up
-- How a web session was established (issue 16). method is the first
-- factor: a password, an organisation's OpenID Connect provider, or a
-- passkey on its own. second_factor is the factor checked after it
-- ('totp', 'passkey' or 'recovery'; '' when none was), second_factor_at
-- when it was last checked (sensitive actions ask for a recent one).
-- pending is what the session still has to do before it may use
-- anything but the sign-in pages: '' (nothing), 'second_factor' (check a
-- factor the person has) or 'setup' (set one up: the organisation
-- requires it and the person has none).
ALTER TABLE web_sessions
    ADD COLUMN method           text NOT NULL DEFAULT 'password'
        CONSTRAINT web_sessions_method_check CHECK (method IN ('password', 'oidc', 'passkey')),
    ADD COLUMN second_factor    text NOT NULL DEFAULT ''
        CONSTRAINT web_sessions_second_factor_check CHECK (second_factor IN ('', 'totp', 'passkey', 'recovery')),
    ADD COLUMN second_factor_at timestamptz,
    ADD COLUMN pending          text NOT NULL DEFAULT ''
        CONSTRAINT web_sessions_pending_check CHECK (pending IN ('', 'second_factor', 'setup'));

-- +goose Down
ALTER TABLE web_sessions DROP COLUMN pending, DROP COLUMN second_factor_at, DROP COLUMN second_factor, DROP COLUMN method;
