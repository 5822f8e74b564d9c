-- +goose Up
-- Mail received by the inbound SMTP listener (internal/mailin) and
-- accepted: a comment on an incident, or a draft of the guided report.
-- Refused mail leaves no row. id is derived from the sender's user and
-- the message's Message-ID (or, without one, its SHA-256), so that a
-- relay that delivers the same message again (it timed out before our
-- 250) finds the row and gets the same answer; the comment or draft
-- written with it carries the same id (draft) or is in the same
-- transaction (comment). auth_results is the Authentication-Results
-- header that was read (docs/email.md, "What the rule trusts"); dkim and
-- spf are its results ('' when the header has none).
CREATE TABLE inbound_mail (
    id           uuid PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES users (id),
    org_id       uuid        NOT NULL REFERENCES organizations (id),
    kind         text        NOT NULL,
    message_id   text        NOT NULL,
    sender       text        NOT NULL,
    subject      text        NOT NULL,
    incident_id  uuid        REFERENCES incidents (id),
    comment_id   uuid        REFERENCES incident_comments (id),
    draft_id     uuid        REFERENCES report_drafts (id) ON DELETE SET NULL,
    attachments  integer     NOT NULL DEFAULT 0,
    size         bigint      NOT NULL,
    auth_results text        NOT NULL DEFAULT '',
    dkim         text        NOT NULL DEFAULT '',
    spf          text        NOT NULL DEFAULT '',
    received_at  timestamptz NOT NULL,
    CONSTRAINT inbound_mail_kind_check CHECK (kind IN ('comment', 'draft')),
    CONSTRAINT inbound_mail_comment_check CHECK (kind <> 'comment' OR (incident_id IS NOT NULL AND comment_id IS NOT NULL))
);
CREATE INDEX inbound_mail_draft_idx ON inbound_mail (draft_id) WHERE draft_id IS NOT NULL;

-- +goose Down
DROP TABLE inbound_mail;
