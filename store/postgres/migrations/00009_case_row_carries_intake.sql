-- +goose Up
-- A new case keeps its raw payload and its first status entries in its own row rather than in
-- case_payloads and case_status_history: two rows, and their three index entries, fewer for every
-- case on the intake path. Cases stored before keep theirs in those tables, and readers take
-- both, so nothing is rewritten here. Later status entries still go to case_status_history.
ALTER TABLE cases ADD COLUMN raw_content_type text, ADD COLUMN raw_body bytea, ADD COLUMN initial_history json;
-- A case row with its record and payload is 1.5–3 KB: past the default 2 KB threshold PostgreSQL
-- would try to compress it on every insert (or move the payload to the TOAST table, a row and
-- index entry again). Rows up to a page stay inline as they are; long letters still get toasted.
ALTER TABLE cases SET (toast_tuple_target = 8160);
ALTER TABLE cases ALTER COLUMN raw_body SET STORAGE EXTERNAL;

-- +goose Down
INSERT INTO case_payloads (case_id, content_type, body, received_at)
  SELECT id, raw_content_type, raw_body, received_at FROM cases WHERE raw_body IS NOT NULL
  ON CONFLICT (case_id) DO NOTHING;
INSERT INTO case_status_history (case_id, status, event, at, source, recorded_at)
  SELECT c.id, h.status, COALESCE(h.event, h.status), h.at, h.source, c.received_at
  FROM cases c, json_to_recordset(c.initial_history) AS h(status text, event text, at timestamptz, source text)
  WHERE c.initial_history IS NOT NULL;
ALTER TABLE cases RESET (toast_tuple_target);
ALTER TABLE cases DROP COLUMN raw_content_type, DROP COLUMN raw_body, DROP COLUMN initial_history;
