-- +goose Up
-- The users an organisation (a CERT) designates to receive TLP:RED
-- incidents (its duty officers): routing a TLP:RED incident to the CERT
-- names them as participants (docs/security.md, "TLP:RED routing").
-- A user leaves the list when the user is deleted; whether a listed user
-- still belongs to the organisation, is active and may acknowledge is
-- checked when the list is used.
CREATE TABLE org_red_recipients (
    org_id   uuid        NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id  uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_by uuid        REFERENCES users (id) ON DELETE SET NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_red_recipients_user_idx ON org_red_recipients (user_id);

-- +goose Down
DROP TABLE org_red_recipients;
