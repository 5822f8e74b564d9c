-- +goose Up
-- An escalation of kind 'inform' tells an organisation about an incident
-- without asking it to act (internal/escalation.Inform).
ALTER TABLE escalations DROP CONSTRAINT escalations_kind_check,
    ADD CONSTRAINT escalations_kind_check CHECK (kind IN ('coordinate', 'assist', 'inform'));

-- +goose Down
ALTER TABLE escalations DROP CONSTRAINT escalations_kind_check,
    ADD CONSTRAINT escalations_kind_check CHECK (kind IN ('coordinate', 'assist'));
