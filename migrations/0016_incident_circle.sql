-- +goose Up
-- The circle of an incident (docs/security.md, "When the TLP tightens or a
-- share ends").
--
-- An organisation outside a TLP:AMBER+STRICT incident's circle joins it
-- only when an escalation to it was confirmed by the requester
-- (joins_strict_circle): its share is marked, and the visibility rule
-- honours such a share for TLP:AMBER+STRICT (and for TLP:AMBER, also for
-- a partner).
ALTER TABLE incident_shares ADD COLUMN strict_circle boolean NOT NULL DEFAULT false;

-- An escalation whose receiving organisation no longer sees the incident
-- (a raised TLP) is cancelled.
ALTER TABLE escalations
    DROP CONSTRAINT escalations_state_check,
    ADD CONSTRAINT escalations_state_check CHECK (state IN ('requested', 'accepted', 'declined', 'returned', 'cancelled'));

-- A queued notification whose recipient no longer sees the incident when
-- it is due is withdrawn, never sent.
ALTER TABLE notifications
    DROP CONSTRAINT notifications_state_check,
    ADD CONSTRAINT notifications_state_check CHECK (state IN ('pending', 'sent', 'failed', 'withdrawn'));

-- The root of a thread in a channel whose organisation lost sight of the
-- incident was replaced, once, by a neutral text: withdrawn_at says when.
ALTER TABLE slack_threads ADD COLUMN withdrawn_at timestamptz;

-- +goose Down
ALTER TABLE slack_threads DROP COLUMN withdrawn_at;
UPDATE notifications SET state = 'failed', last_error = 'withdrawn' WHERE state = 'withdrawn';
ALTER TABLE notifications
    DROP CONSTRAINT notifications_state_check,
    ADD CONSTRAINT notifications_state_check CHECK (state IN ('pending', 'sent', 'failed'));
UPDATE escalations SET state = 'declined' WHERE state = 'cancelled';
ALTER TABLE escalations
    DROP CONSTRAINT escalations_state_check,
    ADD CONSTRAINT escalations_state_check CHECK (state IN ('requested', 'accepted', 'declined', 'returned'));
ALTER TABLE incident_shares DROP COLUMN strict_circle;
