-- +goose Up
-- Hot-topic incidents and their member cases (see the PostgreSQL migration of the same number).
-- Times are INTEGER microseconds since the Unix epoch, as everywhere in this store.
CREATE TABLE incidents (
    id                TEXT PRIMARY KEY,
    category          TEXT NOT NULL,
    district          TEXT NOT NULL,
    summary           TEXT NOT NULL DEFAULT '',
    state             TEXT NOT NULL,
    size              INTEGER NOT NULL,
    first_seen        INTEGER NOT NULL,
    last_seen         INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    closed_at         INTEGER,
    announcement      TEXT NOT NULL DEFAULT '',
    announce_attempts INTEGER NOT NULL DEFAULT 0,
    announce_error    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX incidents_state_seen ON incidents (state, last_seen DESC, id);

-- A case is a member of at most one incident.
CREATE TABLE incident_cases (
    case_id     TEXT PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
    incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    received_at INTEGER NOT NULL,
    joined_at   INTEGER NOT NULL
);
CREATE INDEX incident_cases_incident ON incident_cases (incident_id, received_at DESC);

-- +goose Down
DROP TABLE incident_cases;
DROP TABLE incidents;
