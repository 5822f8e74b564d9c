-- +goose Up
-- The timers of legal deadlines (NIS2, GDPR): one row per incident,
-- deadline kind and point ("50%", "90%" reminders; "due" records a miss),
-- with the River job that fires it. The rows are rewritten whenever what
-- a deadline is computed from changes (detected_at, the flags, a deadline
-- met): a row whose due time changed has its job cancelled and a new one
-- scheduled. fired_at is set in the transaction of the reminder, so a job
-- delivered twice reminds once. No foreign key to river_job: River owns
-- its tables.
CREATE TABLE deadline_timers (
    incident_id uuid NOT NULL REFERENCES incidents (id),
    kind        text NOT NULL,
    point       text NOT NULL,
    fire_at     timestamptz NOT NULL,
    due_at      timestamptz NOT NULL,
    job_id      bigint NOT NULL,
    fired_at    timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (incident_id, kind, point)
);

-- +goose Down
DROP TABLE deadline_timers;
