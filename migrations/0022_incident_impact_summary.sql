-- +goose Up
-- How many people a personal-data breach affects (GDPR Art. 33(3)(a):
-- "the approximate number of data subjects concerned"), NULL while
-- unknown; and the executive summary the coordinator keeps current for
-- leadership (status · impact · next steps), with who changed it last and
-- when. Every change of either is a timeline event (docs/api.md).
ALTER TABLE incidents
    ADD COLUMN affected_people    bigint,
    ADD COLUMN summary_status     text NOT NULL DEFAULT '',
    ADD COLUMN summary_impact     text NOT NULL DEFAULT '',
    ADD COLUMN summary_next_steps text NOT NULL DEFAULT '',
    ADD COLUMN summary_updated_at timestamptz,
    ADD COLUMN summary_updated_by text NOT NULL DEFAULT '',
    ADD CONSTRAINT incidents_affected_people_check CHECK (affected_people IS NULL OR affected_people >= 0);

-- +goose Down
ALTER TABLE incidents
    DROP CONSTRAINT incidents_affected_people_check,
    DROP COLUMN summary_updated_by,
    DROP COLUMN summary_updated_at,
    DROP COLUMN summary_next_steps,
    DROP COLUMN summary_impact,
    DROP COLUMN summary_status,
    DROP COLUMN affected_people;
