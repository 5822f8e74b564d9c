-- +goose Up
-- Tasks of an incident: the work to do, in order, each with an optional
-- assignee and due time. Created by people or by playbooks (created_by NULL).
CREATE TABLE incident_tasks (
    id           uuid PRIMARY KEY,
    incident_id  uuid NOT NULL REFERENCES incidents (id),
    title        text NOT NULL,
    description  text NOT NULL DEFAULT '',
    assignee_id  uuid REFERENCES users (id),
    due_at       timestamptz,
    status       text NOT NULL DEFAULT 'open',
    position     int  NOT NULL,
    created_by   uuid REFERENCES users (id),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    completed_at timestamptz,
    version      bigint NOT NULL DEFAULT 1,
    CONSTRAINT incident_tasks_status_check CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    CONSTRAINT incident_tasks_title_check CHECK (char_length(title) BETWEEN 1 AND 200),
    CONSTRAINT incident_tasks_description_check CHECK (char_length(description) <= 20000),
    CONSTRAINT incident_tasks_position_check CHECK (position >= 1),
    CONSTRAINT incident_tasks_completed_check CHECK ((status = 'done') = (completed_at IS NOT NULL)),
    -- Positions are 1..n within an incident. Moving a task shifts the others
    -- in one statement, so uniqueness is checked at commit.
    CONSTRAINT incident_tasks_position_key UNIQUE (incident_id, position) DEFERRABLE INITIALLY DEFERRED
);
-- A user's queue: their tasks by due time (none last), then age.
CREATE INDEX incident_tasks_queue_idx ON incident_tasks
    (assignee_id, (COALESCE(due_at, 'infinity'::timestamptz)), created_at, id)
    WHERE assignee_id IS NOT NULL;

-- +goose Down
DROP TABLE incident_tasks;
