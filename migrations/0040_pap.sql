-- +goose Up
-- The Permissible Actions Protocol (PAP, issue 17): what a recipient may
-- do with the information (PAP:RED passive only, PAP:AMBER passive cross
-- checks, PAP:GREEN active actions, PAP:CLEAR no restriction), beside the
-- TLP label that says whom it may reach. An incident has one; an
-- observable has its own, set from its incident's when it is added.
-- Existing rows take PAP:AMBER, the default of a new incident
-- (docs/api.md, "PAP").
ALTER TABLE incidents ADD COLUMN pap text NOT NULL DEFAULT 'PAP:AMBER'
    CHECK (pap IN ('PAP:RED', 'PAP:AMBER', 'PAP:GREEN', 'PAP:CLEAR'));
ALTER TABLE incident_observables ADD COLUMN pap text NOT NULL DEFAULT 'PAP:AMBER'
    CHECK (pap IN ('PAP:RED', 'PAP:AMBER', 'PAP:GREEN', 'PAP:CLEAR'));

-- +goose Down
ALTER TABLE incident_observables DROP COLUMN pap;
ALTER TABLE incidents DROP COLUMN pap;
