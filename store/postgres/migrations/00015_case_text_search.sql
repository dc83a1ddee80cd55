-- +goose NO TRANSACTION
-- +goose Up
-- The console's text filter looks for a substring anywhere in a case's text (Chinese has no
-- spaces to split words at, so a word index cannot serve it). A trigram index serves LIKE/ILIKE
-- '%…%' for any language once the query has three or more characters; shorter queries are
-- answered by scanning the newest cases first (SearchCases says why).
-- pg_trgm is a trusted extension: a database owner may create it without superuser rights.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
-- Built concurrently (hence no transaction): a plain CREATE INDEX would block the intake's
-- writes for as long as the build takes on a large table.
CREATE INDEX CONCURRENTLY IF NOT EXISTS cases_text_trgm ON cases USING gin ((record->'content'->>'text') gin_trgm_ops);

-- +goose Down
DROP INDEX IF EXISTS cases_text_trgm;
