-- +goose Up
-- What happened, beside the status it led to: "progress" notes add to a case's history without
-- changing its status, and "reopened" leads back to assigned.
ALTER TABLE case_status_history ADD COLUMN event TEXT NOT NULL DEFAULT '';
UPDATE case_status_history SET event = status WHERE event = '';

-- +goose Down
ALTER TABLE case_status_history DROP COLUMN event;
