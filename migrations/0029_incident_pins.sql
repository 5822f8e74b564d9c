-- +goose Up
-- Key events: the timeline entries a CERT pinned for the executive
-- timeline and the incident report, beside the kinds that are always key
-- (report.KeyKinds). The timeline itself stays append-only; a pin is a
-- mark on one of its rows, audited when set or taken off.
CREATE TABLE incident_pins (
    incident_id uuid NOT NULL REFERENCES incidents (id),
    event_id    bigint NOT NULL REFERENCES incident_events (id),
    pinned_by   uuid REFERENCES users (id),
    pinned_at   timestamptz NOT NULL,
    PRIMARY KEY (incident_id, event_id)
);

-- +goose Down
DROP TABLE incident_pins;
