-- +goose Up
-- Drafts of reports written in the web UI (internal/report): the guided
-- report of a new incident (kind 'incident') and the legal reports filed
-- for an incident's deadlines (kind = the deadline kind). A draft belongs
-- to the organisation that writes it: every user of that organisation who
-- may report sees and continues it (docs/security.md, "Report drafts").
-- answers holds the answers given so far, by field; it is saved after
-- every step, so that a report can be resumed later, on another device,
-- by a colleague. A sent draft keeps its row: incident_id then names the
-- incident it created (the guided report), which is what makes a second
-- send of the same draft return that incident instead of a new one.
CREATE TABLE report_drafts (
    id           uuid PRIMARY KEY,
    org_id       uuid        NOT NULL REFERENCES organizations (id),
    kind         text        NOT NULL,
    incident_id  uuid        REFERENCES incidents (id),
    answers      jsonb       NOT NULL DEFAULT '{}',
    last_step    text        NOT NULL DEFAULT '',
    created_by   uuid        NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    updated_by   uuid        NOT NULL REFERENCES users (id),
    updated_at   timestamptz NOT NULL,
    submitted_at timestamptz,
    CONSTRAINT report_drafts_kind_check CHECK (kind IN
        ('incident', 'nis2_early_warning', 'nis2_notification', 'nis2_final_report', 'gdpr_notification')),
    CONSTRAINT report_drafts_legal_check CHECK (kind = 'incident' OR incident_id IS NOT NULL),
    CONSTRAINT report_drafts_sent_check CHECK (kind <> 'incident' OR (submitted_at IS NULL) = (incident_id IS NULL))
);
-- The open guided reports of an organisation, last saved first.
CREATE INDEX report_drafts_open_idx ON report_drafts (org_id, updated_at DESC)
    WHERE submitted_at IS NULL AND kind = 'incident';
-- One open draft per legal report of an incident.
CREATE UNIQUE INDEX report_drafts_legal_key ON report_drafts (incident_id, kind)
    WHERE submitted_at IS NULL AND kind <> 'incident';

-- The structured report kept with an incident created by the guided
-- report: every question as it was asked, in the reporter's language,
-- with its answer (items), and the answers as values (answers). The
-- approximate numbers of people and of records whose personal data are
-- involved are columns of their own, so that they can be counted.
CREATE TABLE incident_reports (
    incident_id      uuid PRIMARY KEY REFERENCES incidents (id),
    draft_id         uuid        NOT NULL REFERENCES report_drafts (id),
    language         text        NOT NULL,
    items            jsonb       NOT NULL,
    answers          jsonb       NOT NULL,
    people_affected  bigint,
    records_affected bigint,
    submitted_by     uuid        REFERENCES users (id),
    submitted_at     timestamptz NOT NULL,
    CONSTRAINT incident_reports_draft_key UNIQUE (draft_id),
    CONSTRAINT incident_reports_people_check CHECK (people_affected >= 0),
    CONSTRAINT incident_reports_records_check CHECK (records_affected >= 0)
);

-- +goose Down
DROP TABLE incident_reports;
DROP TABLE report_drafts;
