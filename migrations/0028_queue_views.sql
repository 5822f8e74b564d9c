-- +goose Up
-- A responder's saved views of the triage queue: a name and the view's
-- query string (tab, filters, sort), as the queue's URL carries them.
CREATE TABLE saved_views (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id),
    name       text NOT NULL,
    query      text NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT saved_views_name_check CHECK (char_length(name) BETWEEN 1 AND 60),
    CONSTRAINT saved_views_query_check CHECK (char_length(query) <= 2000)
);
CREATE UNIQUE INDEX saved_views_user_name_key ON saved_views (user_id, lower(name));

-- Single-key shortcuts of the web UI (WCAG 2.1.4: they can be switched
-- off): '' follows the role's default (on for the CERTs' responders,
-- coordinators and administrators, off for everyone else), 'on' or 'off'.
ALTER TABLE user_settings ADD COLUMN shortcuts text NOT NULL DEFAULT '',
    ADD CONSTRAINT user_settings_shortcuts_check CHECK (shortcuts IN ('', 'on', 'off'));

-- +goose Down
ALTER TABLE user_settings DROP CONSTRAINT user_settings_shortcuts_check, DROP COLUMN shortcuts;
DROP TABLE saved_views;
