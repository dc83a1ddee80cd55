-- +goose Up
-- How far each retention sweep (raw payloads, personal data) has come through the cases, in
-- (received_at, id) order: each run continues where the last stopped instead of scanning the
-- cases it has already done, and needs no index beyond cases_received.
CREATE TABLE retention_progress (
    sweep       TEXT PRIMARY KEY,
    received_at INTEGER NOT NULL,
    case_id     TEXT NOT NULL
);

-- +goose Down
DROP TABLE retention_progress;
