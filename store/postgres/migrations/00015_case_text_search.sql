-- +goose Up
-- The console's text filter looks for a substring anywhere in a case's text (Chinese has no
-- spaces to split words at, so a word index cannot serve it). A trigram index serves LIKE/ILIKE
-- '%…%' for any language once the query has three or more characters; shorter queries are
-- answered by scanning the newest cases first (SearchCases says why).
-- pg_trgm is a trusted extension: a database owner may create it without superuser rights.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
-- Built in the migration's transaction, not CONCURRENTLY: a concurrent build waits for every
-- open transaction, and hung when two replicas migrated at once (TestMigrateTwiceAndConcurrentlyIsSafe).
-- The build blocks writes to cases while it runs; on a large store, migrate before starting replicas.
CREATE INDEX IF NOT EXISTS cases_text_trgm ON cases USING gin ((record->'content'->>'text') gin_trgm_ops);

-- +goose Down
DROP INDEX IF EXISTS cases_text_trgm;
