-- +goose Up
-- The CERT's triage queue (docs/ui.md, "The triage queue"; docs/api.md).
--
-- Teams: a CERT's users grouped for assignment. A team belongs to one
-- organisation and is seen by its members' organisation only. An incident
-- or a task may be assigned to a team; a team's unclaimed items (no person
-- assigned) are in every member's "Mine".
CREATE TABLE teams (
    id         uuid PRIMARY KEY,
    org_id     uuid NOT NULL REFERENCES organizations (id),
    name       text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    CONSTRAINT teams_name_check CHECK (char_length(name) BETWEEN 1 AND 80)
);
-- One name per organisation, whatever the case.
CREATE UNIQUE INDEX teams_org_name_key ON teams (org_id, lower(name));

CREATE TABLE team_members (
    team_id  uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    user_id  uuid NOT NULL REFERENCES users (id),
    added_at timestamptz NOT NULL,
    PRIMARY KEY (team_id, user_id)
);
-- "My teams".
CREATE INDEX team_members_user_idx ON team_members (user_id);

-- A team with open work is not deleted (the application refuses it); a
-- closed incident or a finished task that named a deleted team loses the
-- team, and its timeline keeps the record of the assignment.
ALTER TABLE incidents ADD COLUMN assignee_team_id uuid REFERENCES teams (id) ON DELETE SET NULL;
ALTER TABLE incident_tasks ADD COLUMN assignee_team_id uuid REFERENCES teams (id) ON DELETE SET NULL;
CREATE INDEX incidents_team_idx ON incidents (assignee_team_id) WHERE assignee_team_id IS NOT NULL;
CREATE INDEX incident_tasks_team_queue_idx ON incident_tasks
    (assignee_team_id, (COALESCE(due_at, 'infinity'::timestamptz)), created_at, id)
    WHERE assignee_team_id IS NOT NULL AND assignee_id IS NULL;

-- The earliest open deadline of an incident, kept by the application in
-- the transaction of every change that moves one:
--   legal_deadline_at: the earliest legal deadline (NIS2, GDPR) not met
--     yet (incident.Incident.NextLegalDeadline), written with the incident;
--   next_deadline_at: the earlier of that and the earliest scheduled
--     escalation-policy timer (escalation_timers.due_at), written with the
--     incident and with every timer that is scheduled, fired or cancelled.
-- NULL: no open deadline.
ALTER TABLE incidents ADD COLUMN legal_deadline_at timestamptz, ADD COLUMN next_deadline_at timestamptz;

-- Existing incidents: the same rules in SQL, once. ("One month" is
-- counted in UTC here; the next change of the incident counts it in the
-- reporting organisation's time zone.)
UPDATE incidents i SET legal_deadline_at = d.due
FROM (
    SELECT x.id, LEAST(
        CASE WHEN x.significant AND NOT EXISTS (SELECT 1 FROM incident_deadlines_met m
            WHERE m.incident_id = x.id AND m.kind = 'nis2_early_warning')
            THEN COALESCE(x.detected_at, x.reported_at) + interval '24 hours' END,
        CASE WHEN x.significant AND NOT EXISTS (SELECT 1 FROM incident_deadlines_met m
            WHERE m.incident_id = x.id AND m.kind = 'nis2_notification')
            THEN COALESCE(x.detected_at, x.reported_at) + interval '72 hours' END,
        CASE WHEN x.significant AND NOT EXISTS (SELECT 1 FROM incident_deadlines_met m
            WHERE m.incident_id = x.id AND m.kind = 'nis2_final_report')
            THEN COALESCE((SELECT m.met_at FROM incident_deadlines_met m
                WHERE m.incident_id = x.id AND m.kind = 'nis2_notification'),
                COALESCE(x.detected_at, x.reported_at) + interval '72 hours') + interval '1 month' END,
        CASE WHEN x.personal_data_breach AND NOT EXISTS (SELECT 1 FROM incident_deadlines_met m
            WHERE m.incident_id = x.id AND m.kind = 'gdpr_notification')
            THEN COALESCE(x.detected_at, x.reported_at) + interval '72 hours' END) AS due
    FROM incidents x WHERE x.significant OR x.personal_data_breach
) d
WHERE d.id = i.id;
UPDATE incidents i SET next_deadline_at = LEAST(i.legal_deadline_at,
    (SELECT min(t.due_at) FROM escalation_timers t WHERE t.incident_id = i.id AND t.state = 'scheduled'))
WHERE i.legal_deadline_at IS NOT NULL
   OR EXISTS (SELECT 1 FROM escalation_timers t WHERE t.incident_id = i.id AND t.state = 'scheduled');

-- The triage order (sort=triage): open before closed, unacknowledged
-- first, then the earliest open deadline (none last), then the oldest
-- report, then the ID. A CERT's queue walks this index and applies the
-- visibility rule and the filters on the way (docs/performance.md).
CREATE INDEX incidents_triage_idx ON incidents
    ((status = 'closed'), (acknowledged_at IS NOT NULL), (COALESCE(next_deadline_at, 'infinity'::timestamptz)), created_at, id);
-- "Deadline at risk": open incidents by their next deadline.
CREATE INDEX incidents_next_deadline_idx ON incidents (next_deadline_at)
    WHERE status = 'open' AND next_deadline_at IS NOT NULL;

-- +goose Down
DROP INDEX incidents_next_deadline_idx;
DROP INDEX incidents_triage_idx;
ALTER TABLE incidents DROP COLUMN next_deadline_at, DROP COLUMN legal_deadline_at;
DROP INDEX incident_tasks_team_queue_idx;
DROP INDEX incidents_team_idx;
ALTER TABLE incident_tasks DROP COLUMN assignee_team_id;
ALTER TABLE incidents DROP COLUMN assignee_team_id;
DROP TABLE team_members;
DROP TABLE teams;
