-- +goose Up
-- Every case inserts its payload, first status entry and delivery record in the same statement
-- as the case itself (see insertFresh), so these foreign keys could never catch anything on the
-- write path, yet each check locked the new case row again (a tuple lock and its WAL record per
-- child row): about a tenth of the database's work per case. Cases are never deleted, so the
-- cascades had nothing to do either.
ALTER TABLE case_payloads DROP CONSTRAINT case_payloads_case_id_fkey;
ALTER TABLE case_status_history DROP CONSTRAINT case_status_history_case_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_case_id_fkey;

-- The record is read and written whole, never queried inside; json keeps the text as sent
-- instead of converting it to jsonb's binary form on every insert and back on every read.
ALTER TABLE cases ALTER COLUMN record TYPE json USING record::json;

-- +goose Down
ALTER TABLE cases ALTER COLUMN record TYPE jsonb USING record::jsonb;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases (id) ON DELETE CASCADE;
ALTER TABLE case_status_history ADD CONSTRAINT case_status_history_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases (id) ON DELETE CASCADE;
ALTER TABLE case_payloads ADD CONSTRAINT case_payloads_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases (id) ON DELETE CASCADE;
