-- +goose Up
-- The audit log becomes a hash chain (docs/reliability.md, "The audit log
-- is tamper-evident"): one global chain, each row at chain_seq 1, 2, 3, …
-- with hash = SHA-256(hash of the row before || the row's canonical
-- encoding), the row before chain_seq 1 being 32 zero bytes. The encoding
-- is audit_log_message below; internal/audit (Encode) computes the same in
-- Go, and certdesk audit verify recomputes every hash from the row's
-- columns without trusting these functions.
--
-- A BEFORE INSERT trigger assigns chain_seq and hash under the row lock of
-- the one-row table audit_chain_head, held until the inserting
-- transaction ends: concurrent inserts queue there and cannot fork the
-- chain, and a rolled-back insert leaves no gap (the head's update rolls
-- back with it).
ALTER TABLE audit_log
    ADD COLUMN chain_seq bigint,
    ADD COLUMN hash      bytea;

CREATE TABLE audit_chain_head (
    one  boolean PRIMARY KEY DEFAULT true CHECK (one),
    seq  bigint NOT NULL,
    hash bytea NOT NULL
);

-- A netstring: the byte length of s in UTF-8, ':', s, ','.
-- +goose StatementBegin
CREATE FUNCTION audit_netstring(s text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT octet_length(s)::text || ':' || s || ',' $$;
-- +goose StatementEnd

-- The canonical encoding of a row (version 1): the netstrings of
-- chain_seq, id, at (microseconds since 1970-01-01 UTC), actor_user_id
-- (lower-case UUID, empty when null), actor, action, target_type,
-- target_id, remote_addr and data (jsonb's text output), in that order,
-- as UTF-8 bytes. Integers are in decimal.
-- +goose StatementBegin
CREATE FUNCTION audit_log_message(r audit_log) RETURNS bytea
    LANGUAGE sql STABLE AS $$
    SELECT convert_to(
        audit_netstring(r.chain_seq::text) ||
        audit_netstring(r.id::text) ||
        audit_netstring(((extract(epoch FROM r.at) * 1000000)::bigint)::text) ||
        audit_netstring(coalesce(r.actor_user_id::text, '')) ||
        audit_netstring(r.actor) ||
        audit_netstring(r.action) ||
        audit_netstring(r.target_type) ||
        audit_netstring(r.target_id) ||
        audit_netstring(r.remote_addr) ||
        audit_netstring(r.data::text), 'UTF8')
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION audit_log_chain() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    head audit_chain_head;
BEGIN
    SELECT * INTO STRICT head FROM audit_chain_head FOR UPDATE;
    NEW.chain_seq := head.seq + 1;
    NEW.hash := sha256(head.hash || audit_log_message(NEW));
    UPDATE audit_chain_head SET seq = NEW.chain_seq, hash = NEW.hash;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

-- The rows already there join the chain in the order of their ids.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
-- +goose StatementBegin
DO $$
DECLARE
    r    audit_log;
    prev bytea := decode(repeat('00', 32), 'hex');
    n    bigint := 0;
BEGIN
    FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
        n := n + 1;
        r.chain_seq := n;
        prev := sha256(prev || audit_log_message(r));
        UPDATE audit_log SET chain_seq = n, hash = prev WHERE id = r.id;
    END LOOP;
    INSERT INTO audit_chain_head (seq, hash) VALUES (n, prev);
END
$$;
-- +goose StatementEnd
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;

ALTER TABLE audit_log
    ALTER COLUMN chain_seq SET NOT NULL,
    ALTER COLUMN hash SET NOT NULL;
CREATE UNIQUE INDEX audit_log_chain_seq_key ON audit_log (chain_seq);
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_chain();

-- The alerts of a broken chain (audit.Watcher): one per fault (the first
-- row that does not match and why) while it is open, so that a break is
-- reported once, not every period; resolved when the chain verifies again
-- or its first fault moves. sent_at: the alert went out.
CREATE TABLE audit_chain_alerts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fault       text NOT NULL,
    detail      text NOT NULL,
    raised_at   timestamptz NOT NULL,
    sent_at     timestamptz,
    resolved_at timestamptz
);
CREATE UNIQUE INDEX audit_chain_alerts_open_key ON audit_chain_alerts (fault) WHERE resolved_at IS NULL;

-- +goose Down
DROP TABLE audit_chain_alerts;
DROP TRIGGER audit_log_chain ON audit_log;
DROP INDEX audit_log_chain_seq_key;
DROP FUNCTION audit_log_chain();
DROP FUNCTION audit_log_message(audit_log);
DROP FUNCTION audit_netstring(text);
DROP TABLE audit_chain_head;
ALTER TABLE audit_log DROP COLUMN hash, DROP COLUMN chain_seq;
