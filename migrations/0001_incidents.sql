-- +goose Up
-- Organisations: the constituency tree (national CERT at the root, regional
-- CERTs below, local authorities and operators as leaves; partners outside).
CREATE TABLE organizations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug        text NOT NULL,
    name        text NOT NULL,
    kind        text NOT NULL,
    parent_id   uuid REFERENCES organizations (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT organizations_slug_key UNIQUE (slug),
    CONSTRAINT organizations_kind_check CHECK (kind IN ('national_cert', 'regional_cert', 'local_authority', 'operator', 'partner')),
    CONSTRAINT organizations_slug_check CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    CONSTRAINT organizations_parent_check CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX organizations_parent_idx ON organizations (parent_id);

-- org_closure holds every (ancestor, descendant) pair, including each
-- organisation with itself at depth 0. It answers "is this organisation in
-- that CERT's constituency" with one index lookup. It is maintained by the
-- store in the same transaction as any change of parent.
CREATE TABLE org_closure (
    ancestor_id   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    descendant_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    depth         int  NOT NULL,
    PRIMARY KEY (ancestor_id, descendant_id)
);
CREATE INDEX org_closure_descendant_idx ON org_closure (descendant_id, depth);

CREATE TABLE incidents (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    reference            text NOT NULL,
    title                text NOT NULL,
    description          text NOT NULL DEFAULT '',
    reporting_org_id     uuid NOT NULL REFERENCES organizations (id),
    coordinating_org_id  uuid REFERENCES organizations (id),
    stage                text NOT NULL,
    status               text NOT NULL DEFAULT 'open',
    severity             text NOT NULL,
    tlp                  text NOT NULL,
    detected_at          timestamptz,
    reported_at          timestamptz NOT NULL,
    acknowledged_at      timestamptz,
    closed_at            timestamptz,
    created_at           timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL,
    version              bigint NOT NULL DEFAULT 1,
    CONSTRAINT incidents_reference_key UNIQUE (reference),
    CONSTRAINT incidents_stage_check CHECK (stage IN ('prevention', 'preparation', 'response', 'recovery')),
    CONSTRAINT incidents_status_check CHECK (status IN ('open', 'closed')),
    CONSTRAINT incidents_severity_check CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    CONSTRAINT incidents_tlp_check CHECK (tlp IN ('TLP:RED', 'TLP:AMBER+STRICT', 'TLP:AMBER', 'TLP:GREEN', 'TLP:CLEAR'))
);
-- Keyset pagination: newest first, id as the tie-breaker.
CREATE INDEX incidents_created_idx ON incidents (created_at DESC, id DESC);
CREATE INDEX incidents_reporting_org_idx ON incidents (reporting_org_id, created_at DESC);
CREATE INDEX incidents_coordinating_org_idx ON incidents (coordinating_org_id, created_at DESC);

-- The timeline: append-only, one row per event.
CREATE TABLE incident_events (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id    uuid NOT NULL REFERENCES incidents (id),
    actor_user_id  uuid,
    actor          text NOT NULL,
    kind           text NOT NULL,
    data           jsonb NOT NULL DEFAULT '{}',
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX incident_events_timeline_idx ON incident_events (incident_id, occurred_at, id);

-- +goose StatementBegin
CREATE FUNCTION incident_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER incident_events_no_update BEFORE UPDATE OR DELETE ON incident_events
    FOR EACH ROW EXECUTE FUNCTION incident_events_append_only();
CREATE TRIGGER incident_events_no_truncate BEFORE TRUNCATE ON incident_events
    FOR EACH STATEMENT EXECUTE FUNCTION incident_events_append_only();

-- Incident references (INC-2026-000042) come from one sequence per year.
-- nextval never blocks and never repeats, so concurrent reports do not queue
-- behind one lock; a rolled-back report leaves a gap. The year's sequence is
-- created on first use.
-- +goose StatementBegin
CREATE FUNCTION certdesk_next_incident_number(year int) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    seq text := format('incident_ref_%s', year);
BEGIN
    LOOP
        BEGIN
            RETURN nextval(seq::regclass);
        EXCEPTION WHEN undefined_table THEN
            BEGIN
                EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', seq);
            EXCEPTION WHEN unique_violation OR duplicate_table THEN
                -- another transaction created it at the same moment: retry nextval
                NULL;
            END;
        END;
    END LOOP;
END;
$$;
-- +goose StatementEnd

-- Idempotency keys of POST requests, per caller. The row is written in the
-- same transaction as the resource it created.
CREATE TABLE idempotency_keys (
    caller        text NOT NULL,
    key           text NOT NULL,
    request_hash  text NOT NULL,
    resource_id   uuid NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP FUNCTION certdesk_next_incident_number(int);
DROP TABLE incident_events;
DROP FUNCTION incident_events_append_only();
DROP TABLE incidents;
DROP TABLE org_closure;
DROP TABLE organizations;
