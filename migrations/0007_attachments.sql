-- +goose Up
-- Evidence attachments. The bytes live in the content-addressed blob folder
-- (CERTDESK_BLOB_DIR, <root>/sha256/<aa>/<bb>/<sha256>); this table holds
-- what they are, whose incident they belong to and who added them. Several
-- rows may name the same sha256 (the same file attached twice is stored
-- once). filename is the sanitised display name; original_filename is the
-- name as the client sent it, kept for the record and never used as a path.
CREATE TABLE incident_attachments (
    id                 uuid PRIMARY KEY,
    incident_id        uuid NOT NULL REFERENCES incidents (id),
    sha256             text NOT NULL,
    size               bigint NOT NULL,
    filename           text NOT NULL,
    original_filename  text NOT NULL,
    content_type       text NOT NULL,
    description        text NOT NULL DEFAULT '',
    uploaded_by        uuid REFERENCES users (id),
    uploaded_by_name   text NOT NULL,
    created_at         timestamptz NOT NULL,
    CONSTRAINT incident_attachments_sha256_check CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    CONSTRAINT incident_attachments_size_check CHECK (size >= 0),
    CONSTRAINT incident_attachments_filename_check CHECK (
        filename <> '' AND char_length(filename) <= 255
        AND strpos(filename, '/') = 0 AND strpos(filename, E'\\') = 0
        AND filename !~ '[[:cntrl:]]')
);
-- An incident's attachments, oldest first (keyset pagination).
CREATE INDEX incident_attachments_incident_idx ON incident_attachments (incident_id, created_at, id);
-- Which rows use a blob: for a job that removes unreferenced blobs.
CREATE INDEX incident_attachments_sha256_idx ON incident_attachments (sha256);

-- +goose Down
DROP TABLE incident_attachments;
