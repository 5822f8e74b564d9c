-- +goose Up
-- Observables (indicators of compromise) of incidents. value holds the
-- value normalised for its type (internal/observable.Normalize), so that
-- the same indicator written two ways is one row per incident and is found
-- in every incident that holds it.
CREATE TABLE incident_observables (
    id           uuid PRIMARY KEY,
    incident_id  uuid NOT NULL REFERENCES incidents (id),
    type         text NOT NULL,
    value        text NOT NULL,
    -- The observable's own TLP label: how far its value may be passed on.
    -- It defaults to the incident's on creation and may be stricter or
    -- looser. Who may read the observable is the incident's visibility.
    tlp          text NOT NULL,
    sighted      boolean NOT NULL DEFAULT false,
    tags         text[] NOT NULL DEFAULT '{}',
    note         text NOT NULL DEFAULT '',
    created_by   uuid REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CONSTRAINT incident_observables_key UNIQUE (incident_id, type, value),
    CONSTRAINT incident_observables_type_check CHECK (type IN
        ('ipv4', 'ipv6', 'domain', 'url', 'email', 'md5', 'sha1', 'sha256', 'filename', 'cve', 'asn')),
    CONSTRAINT incident_observables_tlp_check CHECK (tlp IN ('TLP:RED', 'TLP:AMBER+STRICT', 'TLP:AMBER', 'TLP:GREEN', 'TLP:CLEAR')),
    CONSTRAINT incident_observables_value_check CHECK (value <> '')
);
-- Correlation: every incident that holds a (type, value). Searches always
-- name the type (a search without one asks for each type that accepts the
-- value), so this index serves them; the unique key serves an incident's
-- own list.
CREATE INDEX incident_observables_value_idx ON incident_observables (type, value);
CREATE INDEX incident_observables_incident_idx ON incident_observables (incident_id, created_at, id);

-- +goose Down
DROP TABLE incident_observables;
