-- +goose Up
-- Clients that follow their cases (Open311's servicerequestupdates) ask for the status changes
-- recorded in a period; without this index that is a scan of the whole history.
CREATE INDEX case_status_history_recorded ON case_status_history (recorded_at, id);

-- +goose Down
DROP INDEX case_status_history_recorded;
