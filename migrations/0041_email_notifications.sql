-- +goose Up
-- Notifications by e-mail (internal/mail, docs/email.md). A person chooses
-- to get them in their settings (email_notifications); an organisation
-- gets them at its contact address (organizations.contact_email).
ALTER TABLE user_settings ADD COLUMN email_notifications boolean NOT NULL DEFAULT false;

-- An e-mail notification to a person names them: one event is notified
-- once per (event_key, recipient_org_id, provider, recipient_user_id),
-- where recipient_org_id is the person's organisation (whose sight of the
-- incident decides) and recipient_user_id is NULL for a message to the
-- organisation itself (its chat channel, webhook or contact address).
-- NULLS NOT DISTINCT keeps the organisation's own messages unique as
-- before.
ALTER TABLE notifications
    ADD COLUMN recipient_user_id uuid REFERENCES users (id),
    DROP CONSTRAINT notifications_provider_check,
    ADD CONSTRAINT notifications_provider_check CHECK (provider IN ('slack', 'log', 'webhook', 'email')),
    DROP CONSTRAINT notifications_event_recipient_provider_key,
    ADD CONSTRAINT notifications_event_recipient_provider_key
        UNIQUE NULLS NOT DISTINCT (event_key, recipient_org_id, provider, recipient_user_id);

-- +goose Down
DELETE FROM notifications WHERE provider = 'email';
ALTER TABLE notifications
    DROP CONSTRAINT notifications_event_recipient_provider_key,
    ADD CONSTRAINT notifications_event_recipient_provider_key UNIQUE (event_key, recipient_org_id, provider),
    DROP CONSTRAINT notifications_provider_check,
    ADD CONSTRAINT notifications_provider_check CHECK (provider IN ('slack', 'log', 'webhook')),
    DROP COLUMN recipient_user_id;
ALTER TABLE user_settings DROP COLUMN email_notifications;
