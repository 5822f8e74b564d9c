-- +goose Up
-- Comments on incidents, written in Markdown. Comments are never deleted;
-- an edit replaces the body, bumps the version and keeps the previous body
-- in incident_comment_revisions. A comment is only reachable through its
-- incident, so it has the incident's visibility (and TLP).
CREATE TABLE incident_comments (
    id            uuid PRIMARY KEY,
    incident_id   uuid NOT NULL REFERENCES incidents (id),
    author_id     uuid REFERENCES users (id),             -- NULL: certdesk itself
    body          text NOT NULL,                          -- the Markdown source
    -- body rendered to sanitised HTML when it was written, by version
    -- html_version of the renderer (internal/markdown: Version); a stale
    -- rendering is rendered again on output.
    body_html     text NOT NULL,
    html_version  int NOT NULL,
    created_at    timestamptz NOT NULL,
    edited_at     timestamptz,                            -- NULL until the first edit
    edited_by     uuid REFERENCES users (id),             -- who wrote the current body, if edited
    version       bigint NOT NULL DEFAULT 1,
    -- For full-text search over comments.
    search        tsvector GENERATED ALWAYS AS (to_tsvector('simple', body)) STORED,
    CONSTRAINT incident_comments_body_check CHECK (char_length(body) BETWEEN 1 AND 50000),
    CONSTRAINT incident_comments_version_check CHECK (version >= 1)
);
-- A page of an incident's comments, oldest first (keyset on created_at, id).
CREATE INDEX incident_comments_incident_idx ON incident_comments (incident_id, created_at, id);
CREATE INDEX incident_comments_search_idx ON incident_comments USING gin (search);
CREATE TRIGGER incident_comments_no_delete BEFORE DELETE ON incident_comments
    FOR EACH ROW EXECUTE FUNCTION incident_events_append_only();
CREATE TRIGGER incident_comments_no_truncate BEFORE TRUNCATE ON incident_comments
    FOR EACH STATEMENT EXECUTE FUNCTION incident_events_append_only();

-- Every body a comment had before its current one: row (comment, v) is the
-- body of version v as edited_by wrote it at edited_at (for version 1 the
-- author at creation). Append-only.
CREATE TABLE incident_comment_revisions (
    comment_id    uuid NOT NULL REFERENCES incident_comments (id),
    version       bigint NOT NULL,
    body          text NOT NULL,
    body_html     text NOT NULL,
    html_version  int NOT NULL,
    edited_by     uuid REFERENCES users (id),
    edited_at     timestamptz NOT NULL,
    PRIMARY KEY (comment_id, version)
);
CREATE TRIGGER incident_comment_revisions_no_update BEFORE UPDATE OR DELETE ON incident_comment_revisions
    FOR EACH ROW EXECUTE FUNCTION incident_events_append_only();
CREATE TRIGGER incident_comment_revisions_no_truncate BEFORE TRUNCATE ON incident_comment_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION incident_events_append_only();

-- +goose Down
DROP TABLE incident_comment_revisions;
DROP TABLE incident_comments;
