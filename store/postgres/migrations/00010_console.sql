-- +goose Up
-- Operators of the console. Passwords are argon2id hashes in their encoded form (parameters,
-- salt and hash together), so the cost can be raised later without a schema change.
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    role          text NOT NULL,
    password_hash text NOT NULL,
    disabled      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);

-- Signed-in sessions, kept server-side so that logout and the idle timeout end them at once in
-- every replica. The key is the SHA-256 of the cookie's secret: a copy of this table signs
-- nobody in.
CREATE TABLE user_sessions (
    id_hash     text PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  text NOT NULL,
    remote_addr text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    last_seen   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX user_sessions_user ON user_sessions (user_id, expires_at);

-- Who did what, when and from where: sign-ins, reveals of citizens' personal data, corrections,
-- changes to accounts. Rows are only ever added; the triggers below refuse anything else, also
-- to the gateway's own database user.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    actor_kind  text NOT NULL,
    action      text NOT NULL,
    target      text NOT NULL DEFAULT '',
    remote_addr text NOT NULL DEFAULT '',
    detail      text NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_action ON audit_log (action, id DESC);
CREATE INDEX audit_log_target ON audit_log (target, id DESC) WHERE target <> '';

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Operators' corrections of the classifier, beside what it said, in the order made: the
-- classifier's training data.
CREATE TABLE classification_corrections (
    id                bigserial PRIMARY KEY,
    case_id           uuid NOT NULL,
    at                timestamptz NOT NULL,
    actor             text NOT NULL,
    category          text NOT NULL,
    request_type      text NOT NULL,
    emergency         text NOT NULL DEFAULT '',
    out_of_scope      boolean NOT NULL DEFAULT false,
    note              text NOT NULL DEFAULT '',
    auto_category     text NOT NULL,
    auto_request_type text NOT NULL,
    auto_emergency    text NOT NULL DEFAULT '',
    auto_out_of_scope boolean NOT NULL DEFAULT false
);
CREATE INDEX classification_corrections_case ON classification_corrections (case_id, id);

-- +goose Down
DROP TABLE classification_corrections;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE user_sessions;
DROP TABLE users;
