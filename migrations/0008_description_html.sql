-- +goose Up
-- An incident's description rendered from Markdown to sanitised HTML when
-- it is written (rendering on every read would let one hostile description
-- cost CPU on every page view), with the renderer's version so that a
-- renderer fix re-renders old descriptions when they are read.
ALTER TABLE incidents
    ADD COLUMN description_html         text NOT NULL DEFAULT '',
    ADD COLUMN description_html_version int  NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE incidents DROP COLUMN description_html_version, DROP COLUMN description_html;
