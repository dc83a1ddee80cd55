-- +goose Up
-- How many later submissions were linked to this case as repeated requests (并单); kept as a
-- column so that linking one does not rewrite the case's record.
ALTER TABLE cases ADD COLUMN merged_count integer NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE cases DROP COLUMN merged_count;
