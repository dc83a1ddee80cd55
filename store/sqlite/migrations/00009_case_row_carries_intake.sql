-- +goose Up
-- A new case keeps its raw payload and its first status entries in its own row rather than in
-- case_payloads and case_status_history (as the PostgreSQL store does): two rows fewer per case.
-- Cases stored before keep theirs in those tables, and readers take both.
ALTER TABLE cases ADD COLUMN raw_content_type TEXT;
ALTER TABLE cases ADD COLUMN raw_body BLOB;
ALTER TABLE cases ADD COLUMN initial_history TEXT;

-- +goose Down
INSERT OR IGNORE INTO case_payloads (case_id, content_type, body, received_at)
  SELECT id, raw_content_type, raw_body, received_at FROM cases WHERE raw_body IS NOT NULL;
INSERT INTO case_status_history (case_id, status, event, at, source, recorded_at)
  SELECT c.id, json_extract(h.value, '$.status'), COALESCE(json_extract(h.value, '$.event'), json_extract(h.value, '$.status')),
         CAST(round((julianday(json_extract(h.value, '$.at')) - 2440587.5) * 86400000000) AS INTEGER), json_extract(h.value, '$.source'), c.received_at
  FROM cases c, json_each(c.initial_history) h WHERE c.initial_history IS NOT NULL;
ALTER TABLE cases DROP COLUMN raw_content_type;
ALTER TABLE cases DROP COLUMN raw_body;
ALTER TABLE cases DROP COLUMN initial_history;
