-- +goose Up
-- Escalations between organisations (docs/escalation.md): one row per
-- request to another organisation to coordinate or to assist, and its
-- decision. The timeline holds every state change as an event.
CREATE TABLE escalations (
    id                           uuid PRIMARY KEY,
    incident_id                  uuid NOT NULL REFERENCES incidents (id),
    from_org_id                  uuid NOT NULL REFERENCES organizations (id),
    to_org_id                    uuid NOT NULL REFERENCES organizations (id),
    kind                         text NOT NULL,
    state                        text NOT NULL DEFAULT 'requested',
    reason                       text NOT NULL DEFAULT '',
    requested_by_user_id         uuid REFERENCES users (id),
    requested_by                 text NOT NULL,
    requested_at                 timestamptz NOT NULL,
    decided_by_user_id           uuid REFERENCES users (id),
    decided_by                   text NOT NULL DEFAULT '',
    decided_at                   timestamptz,
    decision_reason              text NOT NULL DEFAULT '',
    returned_by_user_id          uuid REFERENCES users (id),
    returned_by                  text NOT NULL DEFAULT '',
    returned_at                  timestamptz,
    return_reason                text NOT NULL DEFAULT '',
    -- The coordinating organisation before an accepted 'coordinate'
    -- escalation moved it: a return hands coordination back to it.
    previous_coordinating_org_id uuid REFERENCES organizations (id),
    CONSTRAINT escalations_kind_check CHECK (kind IN ('coordinate', 'assist')),
    CONSTRAINT escalations_state_check CHECK (state IN ('requested', 'accepted', 'declined', 'returned')),
    CONSTRAINT escalations_orgs_check CHECK (from_org_id <> to_org_id)
);
-- One open request per incident and receiving organisation.
CREATE UNIQUE INDEX escalations_open_key ON escalations (incident_id, to_org_id) WHERE state = 'requested';
-- The inbox and the outbox, newest first (keyset pagination).
CREATE INDEX escalations_to_idx ON escalations (to_org_id, requested_at DESC, id DESC);
CREATE INDEX escalations_from_idx ON escalations (from_org_id, requested_at DESC, id DESC);
CREATE INDEX escalations_incident_idx ON escalations (incident_id);

-- Escalation policies: the rules of one organisation, as the JSON document
-- of docs/escalation.md (validated by the application before it is stored).
CREATE TABLE escalation_policies (
    org_id     uuid PRIMARY KEY REFERENCES organizations (id),
    rules      jsonb NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL
);

-- Policy timers: one row per scheduled River job of a policy rule for an
-- incident, so that the job can be cancelled (acknowledgement, closing, a
-- change that makes the rule no longer match) in the same transaction.
CREATE TABLE escalation_timers (
    id            uuid PRIMARY KEY,
    incident_id   uuid NOT NULL REFERENCES incidents (id),
    policy_org_id uuid NOT NULL REFERENCES organizations (id),
    rule_name     text NOT NULL,
    level         integer NOT NULL,
    from_org_id   uuid NOT NULL REFERENCES organizations (id),
    target_org_id uuid NOT NULL REFERENCES organizations (id),
    job_id        bigint NOT NULL,
    due_at        timestamptz NOT NULL,
    state         text NOT NULL DEFAULT 'scheduled',
    note          text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    CONSTRAINT escalation_timers_state_check CHECK (state IN ('scheduled', 'fired', 'cancelled', 'skipped')),
    CONSTRAINT escalation_timers_level_check CHECK (level >= 1)
);
-- The timers of an incident still to run (cancelled on acknowledgement).
CREATE INDEX escalation_timers_incident_idx ON escalation_timers (incident_id, state);

-- +goose Down
DROP TABLE escalation_timers;
DROP TABLE escalation_policies;
DROP TABLE escalations;
