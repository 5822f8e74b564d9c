-- +goose Up
-- A delivery claims its notification in a short transaction, calls Slack
-- or the webhook with no transaction open, and records the outcome in a
-- second one (notify.Service.Deliver). The claim is a lease: another
-- delivery of the same notification before claimed_until waits for it;
-- a claim never recorded (a worker that died mid-call) lapses then.
-- claim_root marks a claim that posts the first message of the
-- incident's thread in its channel, which the deliveries of later
-- messages to that thread wait for.
ALTER TABLE notifications
    ADD COLUMN claimed_until timestamptz,
    ADD COLUMN claim_token   uuid,
    ADD COLUMN claim_root    boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE notifications
    DROP COLUMN claim_root,
    DROP COLUMN claim_token,
    DROP COLUMN claimed_until;
