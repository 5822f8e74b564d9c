-- +goose Up
-- The constituency directory: what routing and reports rely on.
ALTER TABLE organizations
    ADD COLUMN country       text NOT NULL DEFAULT '',
    ADD COLUMN region        text NOT NULL DEFAULT '',
    ADD COLUMN sector        text NOT NULL DEFAULT '',
    ADD COLUMN nis2_class    text NOT NULL DEFAULT '',
    ADD COLUMN chat_channel  text NOT NULL DEFAULT '',
    ADD COLUMN contact_email text NOT NULL DEFAULT '',
    ADD COLUMN time_zone     text NOT NULL DEFAULT 'UTC',
    ADD CONSTRAINT organizations_nis2_class_check CHECK (nis2_class IN ('', 'essential', 'important'));

CREATE TABLE users (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES organizations (id),
    email         text NOT NULL,
    name          text NOT NULL DEFAULT '',
    role          text NOT NULL,
    password_hash text,
    disabled_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_role_check CHECK (role IN ('reporter', 'responder', 'coordinator', 'viewer', 'admin'))
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE INDEX users_org_idx ON users (org_id);

-- API tokens: only a SHA-256 of the token is stored; the token is shown once.
CREATE TABLE api_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id      uuid NOT NULL REFERENCES users (id),
    name         text NOT NULL,
    prefix       text NOT NULL,
    hash         bytea NOT NULL,
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT api_tokens_hash_key UNIQUE (hash)
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, created_at DESC);

ALTER TABLE incidents
    ADD COLUMN reporter_user_id uuid REFERENCES users (id),
    ADD COLUMN assignee_id      uuid REFERENCES users (id);

-- Named participants: users who may see the incident whatever their
-- organisation (the only way to see a TLP:RED incident).
CREATE TABLE incident_participants (
    incident_id uuid NOT NULL REFERENCES incidents (id),
    user_id     uuid NOT NULL REFERENCES users (id),
    added_by    uuid REFERENCES users (id),
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (incident_id, user_id)
);
CREATE INDEX incident_participants_user_idx ON incident_participants (user_id, incident_id);

-- Organisations an incident was shared with (kind 'share') or escalated to
-- (kind 'escalation').
CREATE TABLE incident_shares (
    incident_id uuid NOT NULL REFERENCES incidents (id),
    org_id      uuid NOT NULL REFERENCES organizations (id),
    kind        text NOT NULL,
    note        text NOT NULL DEFAULT '',
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (incident_id, org_id),
    CONSTRAINT incident_shares_kind_check CHECK (kind IN ('share', 'escalation'))
);
CREATE INDEX incident_shares_org_idx ON incident_shares (org_id, incident_id);

-- The audit log: authentication failures, tokens, roles, shares. Append-only.
CREATE TABLE audit_log (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor_user_id uuid,
    actor         text NOT NULL,
    action        text NOT NULL,
    target_type   text NOT NULL DEFAULT '',
    target_id     text NOT NULL DEFAULT '',
    remote_addr   text NOT NULL DEFAULT '',
    data          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION incident_events_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION incident_events_append_only();

-- +goose Down
DROP TABLE audit_log;
DROP TABLE incident_shares;
DROP TABLE incident_participants;
ALTER TABLE incidents DROP COLUMN assignee_id, DROP COLUMN reporter_user_id;
DROP TABLE api_tokens;
DROP TABLE users;
ALTER TABLE organizations DROP CONSTRAINT organizations_nis2_class_check,
    DROP COLUMN country, DROP COLUMN region, DROP COLUMN sector, DROP COLUMN nis2_class,
    DROP COLUMN chat_channel, DROP COLUMN contact_email, DROP COLUMN time_zone;
