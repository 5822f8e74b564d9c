-- +goose Up
-- The case record's own fields.
ALTER TABLE incidents
    ADD COLUMN category             text    NOT NULL DEFAULT '',
    ADD COLUMN type                 text    NOT NULL DEFAULT '',
    ADD COLUMN tags                 text[]  NOT NULL DEFAULT '{}',
    ADD COLUMN affected_assets      jsonb   NOT NULL DEFAULT '[]',
    ADD COLUMN personal_data_breach boolean NOT NULL DEFAULT false,
    ADD COLUMN significant          boolean NOT NULL DEFAULT false,
    ADD COLUMN resolution           text    NOT NULL DEFAULT '',
    -- Full-text search over title (weight A) and description (B). The
    -- 'simple' configuration does not stem: reports come in many languages.
    ADD COLUMN search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('simple', coalesce(title, '')), 'A') ||
        setweight(to_tsvector('simple', coalesce(description, '')), 'B')) STORED;
CREATE INDEX incidents_search_idx ON incidents USING gin (search);
CREATE INDEX incidents_tags_idx ON incidents USING gin (tags);
CREATE INDEX incidents_assignee_idx ON incidents (assignee_id, created_at DESC) WHERE assignee_id IS NOT NULL;
CREATE INDEX incidents_updated_idx ON incidents (updated_at DESC, id DESC);

-- Legal deadlines met: the deadlines themselves are computed from the
-- incident's flags and detected_at; this table records when each was met
-- and with what (a reference to the report sent).
CREATE TABLE incident_deadlines_met (
    incident_id uuid        NOT NULL REFERENCES incidents (id),
    kind        text        NOT NULL,
    met_at      timestamptz NOT NULL,
    reference   text        NOT NULL DEFAULT '',
    met_by      uuid        REFERENCES users (id),
    PRIMARY KEY (incident_id, kind),
    CONSTRAINT incident_deadlines_met_kind_check CHECK (kind IN
        ('nis2_early_warning', 'nis2_notification', 'nis2_final_report', 'gdpr_notification'))
);

-- +goose Down
DROP TABLE incident_deadlines_met;
DROP INDEX incidents_updated_idx;
DROP INDEX incidents_assignee_idx;
ALTER TABLE incidents DROP COLUMN search, DROP COLUMN resolution, DROP COLUMN significant,
    DROP COLUMN personal_data_breach, DROP COLUMN affected_assets, DROP COLUMN tags,
    DROP COLUMN type, DROP COLUMN category;
