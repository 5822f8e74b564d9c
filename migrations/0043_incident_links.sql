-- +goose Up
-- Links between incidents (issue 17): from_id is related to, a duplicate
-- of, or part of (the campaign) to_id. A link is shown from both ends,
-- and only to a principal who sees both incidents (internal/linking).
CREATE TABLE incident_links (
    id         uuid PRIMARY KEY,
    from_id    uuid        NOT NULL REFERENCES incidents (id),
    to_id      uuid        NOT NULL REFERENCES incidents (id),
    kind       text        NOT NULL CHECK (kind IN ('related', 'duplicate_of', 'part_of')),
    created_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL,
    CONSTRAINT incident_links_not_self CHECK (from_id <> to_id),
    CONSTRAINT incident_links_key UNIQUE (from_id, to_id, kind)
);
CREATE INDEX incident_links_to_idx ON incident_links (to_id);

-- A merge of a duplicate into a surviving incident. What it moved is
-- recorded so that an undo (within a day) restores it: the observables it
-- copied onto the survivor (their new IDs), the duplicate_of link it made
-- (NULL when one existed), and the duplicate's resolution before it was
-- closed as merged. At most one merge of a duplicate is in force.
CREATE TABLE incident_merges (
    id                  uuid PRIMARY KEY,
    duplicate_id        uuid        NOT NULL REFERENCES incidents (id),
    survivor_id         uuid        NOT NULL REFERENCES incidents (id),
    merged_by           uuid REFERENCES users (id),
    merged_at           timestamptz NOT NULL,
    copied_observables  uuid[]      NOT NULL DEFAULT '{}',
    link_id             uuid,
    previous_resolution text        NOT NULL DEFAULT '',
    undone_by           uuid REFERENCES users (id),
    undone_at           timestamptz,
    CONSTRAINT incident_merges_not_self CHECK (duplicate_id <> survivor_id)
);
CREATE UNIQUE INDEX incident_merges_in_force_idx ON incident_merges (duplicate_id) WHERE undone_at IS NULL;
CREATE INDEX incident_merges_survivor_idx ON incident_merges (survivor_id);

-- +goose Down
DROP TABLE incident_merges;
DROP TABLE incident_links;
