-- +goose Up
-- The legal reports an organisation filed for an incident's deadlines
-- (NIS2 Art. 23 early warning, notification and final report; the GDPR
-- Art. 33 notification, which may come in phases): the questions as they
-- were asked, in the filer's language, with the answers (items), the
-- reasons for a delay when it was late, and the deadline it answered.
-- The first report of a kind also records the deadline as met
-- (incident_deadlines_met, reference 'legal-report:<id>').
CREATE TABLE incident_legal_reports (
    id            uuid PRIMARY KEY,
    incident_id   uuid        NOT NULL REFERENCES incidents (id),
    kind          text        NOT NULL,
    phase         int         NOT NULL,
    language      text        NOT NULL,
    items         jsonb       NOT NULL,
    late_reason   text        NOT NULL DEFAULT '',
    due_at        timestamptz NOT NULL,
    filed_by      uuid        REFERENCES users (id),
    filed_by_name text        NOT NULL,
    filed_at      timestamptz NOT NULL,
    CONSTRAINT incident_legal_reports_phase_key UNIQUE (incident_id, kind, phase),
    CONSTRAINT incident_legal_reports_phase_check CHECK (phase >= 1),
    CONSTRAINT incident_legal_reports_kind_check CHECK (kind IN
        ('nis2_early_warning', 'nis2_notification', 'nis2_final_report', 'gdpr_notification'))
);

-- When each user last opened each incident (the unread marker of "Our
-- reports"): an incident is unread while its timeline has an entry by
-- another person recorded after read_at.
CREATE TABLE incident_reads (
    user_id     uuid        NOT NULL REFERENCES users (id),
    incident_id uuid        NOT NULL REFERENCES incidents (id),
    read_at     timestamptz NOT NULL,
    PRIMARY KEY (user_id, incident_id)
);
-- The newest entries of an incident's timeline, for the unread marker.
CREATE INDEX incident_events_recorded_idx ON incident_events (incident_id, recorded_at);

-- +goose Down
DROP INDEX incident_events_recorded_idx;
DROP TABLE incident_reads;
DROP TABLE incident_legal_reports;
