-- +goose Up
-- The first message of an incident's thread in a channel is kept showing
-- the incident's current state (chat.update): shown_version is the
-- incident version it shows, 0 for the message as first posted.
ALTER TABLE slack_threads ADD COLUMN shown_version bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE slack_threads DROP COLUMN shown_version;
