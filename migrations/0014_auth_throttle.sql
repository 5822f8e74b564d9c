-- +goose Up
-- Failed attempts (a bad API token, a wrong password) counted per scope
-- and key in fixed windows, so that every replica sees the same count
-- (internal/throttle). audited_at marks a window whose failures were
-- summarised into one audit entry.
CREATE TABLE auth_throttle (
    scope        text        NOT NULL,
    key          text        NOT NULL,
    window_start timestamptz NOT NULL,
    failures     integer     NOT NULL DEFAULT 0 CHECK (failures >= 0),
    audited_at   timestamptz,
    PRIMARY KEY (scope, key, window_start)
);
CREATE INDEX auth_throttle_window_idx ON auth_throttle (window_start);

-- +goose Down
DROP TABLE auth_throttle;
