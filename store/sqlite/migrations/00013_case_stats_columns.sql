-- +goose Up
-- The console's figures read these columns instead of each case's record and history (see the
-- PostgreSQL store's migration 00013 for the reasons). Times are microseconds, as elsewhere.
ALTER TABLE cases ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN request_type TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN emergency INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN needs_review INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN due_at INTEGER;
-- When the case was first resolved or closed (kept by AddStatus); 按时办结 compares it with due_at.
ALTER TABLE cases ADD COLUMN first_resolved_at INTEGER;

UPDATE cases SET
    category = COALESCE(json_extract(record, '$.classification.category'), ''),
    request_type = COALESCE(json_extract(record, '$.classification.request_type'), ''),
    emergency = json_extract(record, '$.emergency') IS NOT NULL,
    needs_review = COALESCE(json_extract(record, '$.classification.needs_review') = 1, 0),
    -- SQLite's date functions keep milliseconds of the record's RFC 3339 text.
    due_at = CAST(round((julianday(json_extract(record, '$.due_at')) - 2440587.5) * 86400000000) AS INTEGER),
    first_resolved_at = (SELECT min(h.at) FROM case_status_history h WHERE h.case_id = cases.id AND h.event IN ('resolved', 'closed'));

-- A covering index (SQLite has no INCLUDE): listing newest first and the figures of a period
-- both read it, the figures without visiting the table.
DROP INDEX cases_received;
CREATE INDEX cases_received ON cases (received_at DESC, id DESC, channel, status, category, request_type,
    emergency, needs_review, due_at, first_resolved_at);

-- Open cases by deadline; the list is store.OpenStatuses, and the query names the same.
CREATE INDEX cases_open_due ON cases (due_at)
    WHERE due_at IS NOT NULL AND status IN ('received', 'forwarded', 'accepted', 'assigned');

CREATE INDEX case_status_history_feedback ON case_status_history (at) WHERE event = 'feedback';

CREATE INDEX notifications_created ON notifications (created_at);

-- +goose Down
DROP INDEX notifications_created;
DROP INDEX case_status_history_feedback;
DROP INDEX cases_open_due;
DROP INDEX cases_received;
CREATE INDEX cases_received ON cases (received_at DESC, id DESC);
ALTER TABLE cases DROP COLUMN first_resolved_at;
ALTER TABLE cases DROP COLUMN due_at;
ALTER TABLE cases DROP COLUMN needs_review;
ALTER TABLE cases DROP COLUMN emergency;
ALTER TABLE cases DROP COLUMN request_type;
ALTER TABLE cases DROP COLUMN category;
