-- +goose Up
-- Times are INTEGER microseconds since the Unix epoch (UTC): they sort and compare correctly,
-- which SQLite's text timestamps only do when every writer formats them identically.
CREATE TABLE cases (
    id               TEXT PRIMARY KEY,
    case_no          TEXT NOT NULL UNIQUE,
    channel          TEXT NOT NULL,
    channel_id       TEXT NOT NULL,
    external_id      TEXT NOT NULL,
    status           TEXT NOT NULL,
    priority         TEXT NOT NULL,
    received_at      INTEGER NOT NULL,
    payload_hash     TEXT NOT NULL,
    citizen_phone    TEXT,
    citizen_openid   TEXT,
    citizen_weibo_uid TEXT,
    case_ref         TEXT,
    record           TEXT NOT NULL,
    updated_at       INTEGER NOT NULL,
    CONSTRAINT cases_channel_external UNIQUE (channel_id, external_id)
);
CREATE INDEX cases_received ON cases (received_at DESC, id DESC);
CREATE INDEX cases_channel_received ON cases (channel, received_at DESC, id DESC);
CREATE INDEX cases_status_received ON cases (status, received_at DESC, id DESC);

CREATE TABLE case_payloads (
    case_id      TEXT PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
    content_type TEXT NOT NULL,
    body         BLOB NOT NULL,
    received_at  INTEGER NOT NULL
);

CREATE TABLE case_status_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    status      TEXT NOT NULL,
    at          INTEGER NOT NULL,
    source      TEXT NOT NULL,
    event_id    TEXT,
    department  TEXT NOT NULL DEFAULT '',
    message     TEXT NOT NULL DEFAULT '',
    recorded_at INTEGER NOT NULL
);
CREATE INDEX case_status_history_case ON case_status_history (case_id, at, id);
CREATE UNIQUE INDEX case_status_history_event ON case_status_history (case_id, event_id) WHERE event_id IS NOT NULL;

CREATE TABLE case_no_counters (
    day  TEXT PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE deliveries (
    id          TEXT PRIMARY KEY,
    case_id     TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    event       TEXT NOT NULL,
    target      TEXT NOT NULL,
    state       TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX deliveries_case ON deliveries (case_id, created_at);
CREATE INDEX deliveries_state ON deliveries (state, created_at);

-- +goose Down
DROP TABLE deliveries;
DROP TABLE case_no_counters;
DROP TABLE case_status_history;
DROP TABLE case_payloads;
DROP TABLE cases;
