-- +goose Up
-- A person's own settings for the web UI (internal/settings). A user
-- without a row has the defaults: the browser's language, the
-- organisation's time zone and the system's theme. Empty language and
-- time_zone mean the same defaults.
CREATE TABLE user_settings (
    user_id    uuid PRIMARY KEY REFERENCES users (id),
    language   text        NOT NULL DEFAULT '',
    time_zone  text        NOT NULL DEFAULT '',
    theme      text        NOT NULL DEFAULT 'system',
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT user_settings_theme_check CHECK (theme IN ('system', 'light', 'dark'))
);

-- The telephone number people call in an emergency: the web UI's help
-- page shows the responsible CERT's, with its e-mail address.
ALTER TABLE organizations ADD COLUMN contact_phone text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE organizations DROP COLUMN contact_phone;
DROP TABLE user_settings;
