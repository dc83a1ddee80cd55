-- +goose Up
-- The console's figures (dashboard, monthly report) group a period's cases by channel, category
-- and request type and count the resolved, the open past their deadline and the feedback. They
-- used to read each case's json record, and the history of each resolved case, for every case
-- in the period: 30 s for a month of a 1 M-case store. The keys the figures need are now real
-- columns, written by the statements that write the record, so a period's figures are one
-- index-only range scan of the index below (cost grows with the cases in the period, not with
-- the store).
--
-- No per-day rollup table: every intake batch would update the same few rows of today's rollup,
-- and the group commit runs several batches at once, so those rows would serialise the writers
-- (the hot-row problem case_no_reserve avoids with sequences).
ALTER TABLE cases
    ADD COLUMN category          text NOT NULL DEFAULT '',
    ADD COLUMN request_type      text NOT NULL DEFAULT '',
    ADD COLUMN emergency         boolean NOT NULL DEFAULT false,
    ADD COLUMN needs_review      boolean NOT NULL DEFAULT false,
    ADD COLUMN due_at            timestamptz,
    -- When the case was first resolved or closed (the earliest such event of its history, kept
    -- by AddStatus): 按时办结 compares it with due_at.
    ADD COLUMN first_resolved_at timestamptz;

-- The record is json (text): parse it once per row, not once per field.
UPDATE cases c SET (category, request_type, emergency, needs_review, due_at, first_resolved_at) = (
    SELECT COALESCE(r.j->'classification'->>'category', ''),
           COALESCE(r.j->'classification'->>'request_type', ''),
           (r.j->>'emergency') IS NOT NULL,
           COALESCE(r.j->'classification'->>'needs_review' = 'true', false),
           (r.j->>'due_at')::timestamptz,
           (SELECT min(h.at) FROM case_status_history h WHERE h.case_id = c.id AND h.event IN ('resolved', 'closed'))
    FROM (SELECT c.record::jsonb AS j) r);

-- Listing newest first and the figures of a period both read cases by received_at: one index
-- serves both, the figures' columns carried in it so that counting never visits the table.
DROP INDEX cases_received;
CREATE INDEX cases_received ON cases (received_at DESC, id DESC)
    INCLUDE (channel, status, category, request_type, emergency, needs_review, due_at, first_resolved_at);

-- Open cases by deadline (overdue, due within a day). Only open cases are in it: a case leaves
-- it when it is resolved. The status list is store.OpenStatuses; the query must name the same
-- list for the planner to use the index.
CREATE INDEX cases_open_due ON cases (due_at)
    WHERE due_at IS NOT NULL AND status IN ('received', 'forwarded', 'accepted', 'assigned');

-- Satisfaction answers of a period, without reading the rest of the history.
CREATE INDEX case_status_history_feedback ON case_status_history (at) WHERE event = 'feedback';

-- Notifications of a period by state.
CREATE INDEX notifications_created ON notifications (created_at);

-- No ANALYZE here: on a new, empty store it would tell the planner the table is empty for good
-- (and it would plan the intake's probes as scans); Migrate analyzes tables whose statistics
-- the backfill made stale (refreshStatistics).

-- +goose Down
DROP INDEX notifications_created;
DROP INDEX case_status_history_feedback;
DROP INDEX cases_open_due;
DROP INDEX cases_received;
CREATE INDEX cases_received ON cases (received_at DESC, id DESC);
ALTER TABLE cases
    DROP COLUMN category, DROP COLUMN request_type, DROP COLUMN emergency, DROP COLUMN needs_review,
    DROP COLUMN due_at, DROP COLUMN first_resolved_at;
