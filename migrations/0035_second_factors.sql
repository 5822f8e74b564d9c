-- +goose Up
-- Second factors and the organisations' sign-in policies (issue 16).

-- A person's authenticator app (TOTP, RFC 6238). The key is sealed
-- (internal/sealed, label "totp:<user id>"); confirmed_at is NULL while
-- it is being set up (a code from the app confirms it). last_step is the
-- last time step a code was accepted for: a code is good once.
CREATE TABLE user_totp (
    user_id      uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    key_sealed   bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    confirmed_at timestamptz,
    last_step    bigint      NOT NULL DEFAULT 0
);

-- Ten one-time recovery codes per person, shown once; only their hashes
-- are kept. A used code keeps its row with used_at.
CREATE TABLE user_recovery_codes (
    user_id    uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  bytea       NOT NULL,
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- A person's passkeys (WebAuthn credentials). id is the credential ID the
-- authenticator chose; credential holds go-webauthn's record of it (the
-- public key, the signature counter, the flags, the transports) as JSON.
-- Public keys are not secrets.
CREATE TABLE webauthn_credentials (
    id           bytea PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    credential   jsonb       NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz
);
CREATE INDEX webauthn_credentials_user_idx ON webauthn_credentials (user_id, created_at);

-- An organisation's sign-in policy. second_factor: 'optional' (nobody
-- must), 'roles' (the roles in second_factor_roles must) or 'all'.
-- passkey_alone lets a passkey sign its people in without a password.
-- step_up_minutes: how recent a second factor must be for a sensitive
-- action (TLP:CLEAR, exports, administration) when the person must have
-- one. An organisation without a row has the defaults.
CREATE TABLE org_sign_in_policies (
    org_id              uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    second_factor       text        NOT NULL DEFAULT 'optional'
        CHECK (second_factor IN ('optional', 'roles', 'all')),
    second_factor_roles text[]      NOT NULL DEFAULT '{}',
    passkey_alone       boolean     NOT NULL DEFAULT true,
    step_up_minutes     integer     NOT NULL DEFAULT 15 CHECK (step_up_minutes BETWEEN 1 AND 1440),
    updated_at          timestamptz NOT NULL,
    updated_by          uuid REFERENCES users (id)
);

-- +goose Down
DROP TABLE org_sign_in_policies;
DROP TABLE webauthn_credentials;
DROP TABLE user_recovery_codes;
DROP TABLE user_totp;
