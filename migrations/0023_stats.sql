-- +goose Up
-- The leadership metrics' roll-ups (docs/metrics.md).
--
-- stats_facts: per incident, what the metrics know of it (its dimensions
-- and times) and its audience, the organisations that see it as a whole.
-- The roll-up rows of exactly those organisations hold its cells; a change
-- of the incident recomputes its facts and moves its cells, in the same
-- transaction.
CREATE TABLE stats_facts (
    incident_id          uuid PRIMARY KEY REFERENCES incidents (id),
    audience             uuid[] NOT NULL,
    chain                uuid[] NOT NULL,
    reporting_org_id     uuid NOT NULL,
    coordinating_org_id  uuid,
    tlp                  text NOT NULL,
    sector               text NOT NULL,
    open                 boolean NOT NULL,
    stage                text NOT NULL,
    severity             text NOT NULL,
    category             text NOT NULL,
    significant          boolean NOT NULL,
    personal_data_breach boolean NOT NULL,
    affected_people      bigint,
    reported_at          timestamptz NOT NULL,
    acknowledged_at      timestamptz,
    contained_at         timestamptz,
    closed_at            timestamptz,
    stage_seconds        bigint[] NOT NULL,
    deadlines            jsonb NOT NULL
);

-- The legal deadlines not met yet, by when they fall due: which of today's
-- are missed already is counted exactly from here (docs/metrics.md).
CREATE TABLE stats_unmet_deadlines (
    incident_id uuid NOT NULL REFERENCES incidents (id),
    kind        text NOT NULL,
    due_at      timestamptz NOT NULL,
    PRIMARY KEY (incident_id, kind)
);
CREATE INDEX stats_unmet_deadlines_due_idx ON stats_unmet_deadlines (due_at);

-- The roll-up totals: per audience organisation, series, calendar day in
-- that organisation's time zone (1970-01-01 for "now"), and two keys.
CREATE TABLE stats_rollup (
    org_id uuid   NOT NULL,
    series text   NOT NULL,
    day    date   NOT NULL,
    k1     text   NOT NULL,
    k2     text   NOT NULL,
    n      bigint NOT NULL,
    total  bigint NOT NULL,
    PRIMARY KEY (org_id, series, day, k1, k2)
);
-- Rows that fell to zero, removed after each compaction.
CREATE INDEX stats_rollup_zero_idx ON stats_rollup (org_id) WHERE n = 0 AND total = 0;

-- Changes not folded into the totals yet: appended by every change (no
-- shared counter to wait on), summed by readers with the totals, and folded
-- in every few seconds by the stats.compact job.
CREATE TABLE stats_delta (
    id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org_id uuid   NOT NULL,
    series text   NOT NULL,
    day    date   NOT NULL,
    k1     text   NOT NULL,
    k2     text   NOT NULL,
    n      bigint NOT NULL,
    total  bigint NOT NULL
);
CREATE INDEX stats_delta_org_idx ON stats_delta (org_id, series, day);

-- The oldest open incidents, in order.
CREATE INDEX incidents_open_reported_idx ON incidents (reported_at, id) WHERE status = 'open';
-- Escalations requested in a period.
CREATE INDEX escalations_requested_idx ON escalations (requested_at);

-- +goose Down
DROP INDEX escalations_requested_idx;
DROP INDEX incidents_open_reported_idx;
DROP TABLE stats_delta;
DROP TABLE stats_rollup;
DROP TABLE stats_unmet_deadlines;
DROP TABLE stats_facts;
