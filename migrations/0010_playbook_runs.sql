-- +goose Up
-- A playbook run: one per (incident, playbook, version). It pins the exact
-- playbook source it started with (and its SHA-256), and re-parses that
-- source for every step, so editing a playbook file never changes a run in
-- flight.
CREATE TABLE playbook_runs (
    id               uuid PRIMARY KEY,
    incident_id      uuid NOT NULL REFERENCES incidents (id),
    playbook_id      text NOT NULL,
    playbook_version integer NOT NULL,
    playbook_name    text NOT NULL,
    content_hash     text NOT NULL,
    source           bytea NOT NULL,
    trigger          text NOT NULL,
    state            text NOT NULL DEFAULT 'running',
    started_by       uuid REFERENCES users (id),
    started_by_name  text NOT NULL,
    started_at       timestamptz NOT NULL,
    finished_at      timestamptz,
    error            text NOT NULL DEFAULT '',
    CONSTRAINT playbook_runs_incident_playbook_version_key UNIQUE (incident_id, playbook_id, playbook_version),
    CONSTRAINT playbook_runs_state_check CHECK (state IN ('running', 'succeeded', 'failed', 'cancelled')),
    CONSTRAINT playbook_runs_trigger_check CHECK (trigger IN ('incident.created', 'incident.stage_changed',
        'incident.updated', 'incident.escalated', 'manual'))
);
-- An incident's runs, newest first.
CREATE INDEX playbook_runs_incident_idx ON playbook_runs (incident_id, started_at DESC, id DESC);

-- One row per step of a run. job_id is the River job that will act on the
-- step next (its attempt, its wake-up or its timeout); a job acts only when
-- it is the step's job and the step is in the state that job expects.
-- waiting_for says what a waiting step waits for: acknowledgement,
-- task_done:<step>, stage:<stage>, a duration, approval:<role> or input.
-- handled marks a failed step whose on_failure/on_timeout was continue or a
-- step id: it counts as done for the steps that need it. jumped_from names
-- the step whose failure or timeout started a handler step.
CREATE TABLE playbook_steps (
    run_id      uuid NOT NULL REFERENCES playbook_runs (id),
    step_id     text NOT NULL,
    position    integer NOT NULL,
    action      text NOT NULL,
    status      text NOT NULL DEFAULT 'pending',
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text NOT NULL DEFAULT '',
    output      jsonb NOT NULL DEFAULT '{}',
    job_id      bigint,
    waiting_for text NOT NULL DEFAULT '',
    handled     boolean NOT NULL DEFAULT false,
    jumped_from text NOT NULL DEFAULT '',
    started_at  timestamptz,
    finished_at timestamptz,
    PRIMARY KEY (run_id, step_id),
    CONSTRAINT playbook_steps_status_check CHECK (status IN ('pending', 'running', 'waiting', 'succeeded',
        'failed', 'skipped', 'cancelled')),
    CONSTRAINT playbook_steps_attempts_check CHECK (attempts >= 0)
);
-- Waiting steps, found by the event handler that resumes them.
CREATE INDEX playbook_steps_waiting_idx ON playbook_steps (run_id) WHERE status = 'waiting';

-- +goose Down
DROP TABLE playbook_steps;
DROP TABLE playbook_runs;
