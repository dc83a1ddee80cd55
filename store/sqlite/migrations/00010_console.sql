-- +goose Up
-- Operators of the console (see the PostgreSQL migration of the same number). Times are INTEGER
-- microseconds since the Unix epoch, as everywhere in this store.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE user_sessions (
    id_hash     TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL,
    remote_addr TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id, expires_at);

-- Append-only: the triggers refuse every update and delete.
CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    actor_kind  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL DEFAULT '',
    remote_addr TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_action ON audit_log (action, id DESC);
CREATE INDEX audit_log_target ON audit_log (target, id DESC) WHERE target <> '';

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;
-- +goose StatementEnd

CREATE TABLE classification_corrections (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id           TEXT NOT NULL,
    at                INTEGER NOT NULL,
    actor             TEXT NOT NULL,
    category          TEXT NOT NULL,
    request_type      TEXT NOT NULL,
    emergency         TEXT NOT NULL DEFAULT '',
    out_of_scope      INTEGER NOT NULL DEFAULT 0,
    note              TEXT NOT NULL DEFAULT '',
    auto_category     TEXT NOT NULL,
    auto_request_type TEXT NOT NULL,
    auto_emergency    TEXT NOT NULL DEFAULT '',
    auto_out_of_scope INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX classification_corrections_case ON classification_corrections (case_id, id);

-- +goose Down
DROP TABLE classification_corrections;
DROP TRIGGER audit_log_no_delete;
DROP TRIGGER audit_log_no_update;
DROP TABLE audit_log;
DROP TABLE user_sessions;
DROP TABLE users;
