-- +goose Up
-- The dashboard reads one organisation's roll-up rows of a span of days
-- (internal/postgres statsReader.RollupCells). With the day third in the
-- keys, that read walked every row the organisation ever had (about
-- 200,000 for a national CERT at 1,000,000 incidents) and fetched each
-- from the heap; keyed by (org, day) and carrying n and total, it reads
-- only the span's rows from the index.
ALTER TABLE stats_rollup DROP CONSTRAINT stats_rollup_pkey,
    ADD CONSTRAINT stats_rollup_pkey PRIMARY KEY (org_id, day, series, k1, k2) INCLUDE (n, total);
DROP INDEX stats_delta_org_idx;
CREATE INDEX stats_delta_org_day_idx ON stats_delta (org_id, day);

-- +goose Down
DROP INDEX stats_delta_org_day_idx;
CREATE INDEX stats_delta_org_idx ON stats_delta (org_id, series, day);
ALTER TABLE stats_rollup DROP CONSTRAINT stats_rollup_pkey,
    ADD CONSTRAINT stats_rollup_pkey PRIMARY KEY (org_id, series, day, k1, k2);
