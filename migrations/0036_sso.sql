-- +goose Up
-- OpenID Connect single sign-on per organisation (issue 16).

-- An organisation's identity provider. The client secret is sealed
-- (internal/sealed, label "oidc:<org id>"); it is never shown back.
-- create_users: a person whose e-mail is in one of the domains and who
-- has no certdesk user yet gets one, with default_role, at their first
-- sign-in (off by default).
CREATE TABLE sso_providers (
    org_id        uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    issuer        text        NOT NULL,
    client_id     text        NOT NULL,
    secret_sealed bytea       NOT NULL,
    email_claim   text        NOT NULL DEFAULT 'email',
    create_users  boolean     NOT NULL DEFAULT false,
    default_role  text        NOT NULL DEFAULT 'reporter',
    updated_at    timestamptz NOT NULL,
    updated_by    uuid REFERENCES users (id) ON DELETE SET NULL
);

-- The e-mail domains whose people sign in through an organisation's
-- provider (home-realm discovery). A domain belongs to one provider.
CREATE TABLE sso_domains (
    domain text PRIMARY KEY CHECK (domain = lower(domain) AND domain <> ''),
    org_id uuid NOT NULL REFERENCES sso_providers (org_id) ON DELETE CASCADE
);
CREATE INDEX sso_domains_org_idx ON sso_domains (org_id);

-- Sign-ins under way: one row per redirect to a provider, keyed by the
-- SHA-256 of the state parameter, taken (deleted) by the callback, so a
-- state works once. browser_hash is the SHA-256 of the browser's
-- pre-session secret: the callback must come back to the browser that
-- left. org_id NULL: the installation's provider.
CREATE TABLE sso_states (
    state_hash   bytea PRIMARY KEY,
    browser_hash bytea       NOT NULL,
    org_id       uuid REFERENCES organizations (id) ON DELETE CASCADE,
    email        text        NOT NULL,
    nonce        text        NOT NULL,
    verifier     text        NOT NULL,
    return_to    text        NOT NULL DEFAULT '',
    expires_at   timestamptz NOT NULL
);
CREATE INDEX sso_states_expires_idx ON sso_states (expires_at);

-- +goose Down
DROP TABLE sso_states;
DROP TABLE sso_domains;
DROP TABLE sso_providers;
