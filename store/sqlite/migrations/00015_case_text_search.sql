-- +goose Up
-- The console's text filter looks for a substring anywhere in a case's text; Chinese has no
-- spaces to split words at, so the index is FTS5's trigram tokenizer, which serves substring
-- queries of three or more characters in any language. It keeps its own copy of each case's
-- text under the case's rowid, kept in step with the case record by the triggers below (an
-- erasure of the text by retention reaches the index in the same statement).
CREATE VIRTUAL TABLE cases_text USING fts5(text, tokenize = 'trigram');

INSERT INTO cases_text (rowid, text)
    SELECT rowid, COALESCE(json_extract(record, '$.content.text'), '') FROM cases;

-- +goose StatementBegin
CREATE TRIGGER cases_text_insert AFTER INSERT ON cases BEGIN
    INSERT INTO cases_text (rowid, text) VALUES (new.rowid, COALESCE(json_extract(new.record, '$.content.text'), ''));
END;
-- +goose StatementEnd

-- Only when the text changed: most updates of a case (status, deliveries) leave it alone.
-- +goose StatementBegin
CREATE TRIGGER cases_text_update AFTER UPDATE OF record ON cases
    WHEN json_extract(old.record, '$.content.text') IS NOT json_extract(new.record, '$.content.text') BEGIN
    DELETE FROM cases_text WHERE rowid = old.rowid;
    INSERT INTO cases_text (rowid, text) VALUES (new.rowid, COALESCE(json_extract(new.record, '$.content.text'), ''));
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER cases_text_delete AFTER DELETE ON cases BEGIN
    DELETE FROM cases_text WHERE rowid = old.rowid;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER cases_text_delete;
DROP TRIGGER cases_text_update;
DROP TRIGGER cases_text_insert;
DROP TABLE cases_text;
