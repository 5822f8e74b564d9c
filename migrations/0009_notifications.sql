-- +goose Up
-- The notification outbox: one row per message to one organisation about
-- one event, written in the transaction of the change it reports, and
-- delivered by the notify.deliver job. (event_key, recipient_org_id) is
-- unique: one event is notified once per recipient.
CREATE TABLE notifications (
    id                  uuid PRIMARY KEY,
    incident_id         uuid NOT NULL REFERENCES incidents (id),
    event_key           text NOT NULL,
    event_id            bigint,
    event_kind          text NOT NULL,
    recipient_org_id    uuid NOT NULL REFERENCES organizations (id),
    channel             text NOT NULL DEFAULT '',
    provider            text NOT NULL,
    message             jsonb NOT NULL,
    state               text NOT NULL DEFAULT 'pending',
    attempts            integer NOT NULL DEFAULT 0,
    last_error          text NOT NULL DEFAULT '',
    provider_message_id text NOT NULL DEFAULT '',
    thread_ts           text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL,
    sent_at             timestamptz,
    CONSTRAINT notifications_event_recipient_key UNIQUE (event_key, recipient_org_id),
    CONSTRAINT notifications_provider_check CHECK (provider IN ('slack', 'log')),
    CONSTRAINT notifications_state_check CHECK (state IN ('pending', 'sent', 'failed')),
    CONSTRAINT notifications_attempts_check CHECK (attempts >= 0)
);
-- An incident's notifications, newest first (keyset pagination).
CREATE INDEX notifications_incident_idx ON notifications (incident_id, created_at DESC, id DESC);
-- Every visible notification, newest first.
CREATE INDEX notifications_created_idx ON notifications (created_at DESC, id DESC);

-- The Slack thread of an incident in a channel: the ts of the first
-- message posted there. Later messages are replies in that thread.
CREATE TABLE slack_threads (
    incident_id uuid NOT NULL REFERENCES incidents (id),
    channel     text NOT NULL,
    ts          text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (incident_id, channel)
);

-- +goose Down
DROP TABLE slack_threads;
DROP TABLE notifications;
