-- +goose Up
CREATE TABLE cases (
    id               uuid PRIMARY KEY,
    case_no          text NOT NULL UNIQUE,
    channel          text NOT NULL,
    channel_id       text NOT NULL,
    external_id      text NOT NULL,
    status           text NOT NULL,
    priority         text NOT NULL,
    received_at      timestamptz NOT NULL,
    payload_hash     text NOT NULL,
    citizen_phone    text,
    citizen_openid   text,
    citizen_weibo_uid text,
    case_ref         text,
    record           jsonb NOT NULL,
    updated_at       timestamptz NOT NULL,
    -- A retried delivery must find the first one: this is what makes retries not new cases.
    CONSTRAINT cases_channel_external UNIQUE (channel_id, external_id)
);
-- Listing is newest first with keyset pagination on (received_at, id).
CREATE INDEX cases_received ON cases (received_at DESC, id DESC);
CREATE INDEX cases_channel_received ON cases (channel, received_at DESC, id DESC);
CREATE INDEX cases_status_received ON cases (status, received_at DESC, id DESC);

-- The raw bytes of every submission, for audit.
CREATE TABLE case_payloads (
    case_id      uuid PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
    content_type text NOT NULL,
    body         bytea NOT NULL,
    received_at  timestamptz NOT NULL
);

CREATE TABLE case_status_history (
    id          bigserial PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    status      text NOT NULL,
    at          timestamptz NOT NULL,
    source      text NOT NULL,
    event_id    text,
    department  text NOT NULL DEFAULT '',
    message     text NOT NULL DEFAULT '',
    recorded_at timestamptz NOT NULL
);
CREATE INDEX case_status_history_case ON case_status_history (case_id, at, id);
CREATE UNIQUE INDEX case_status_history_event ON case_status_history (case_id, event_id) WHERE event_id IS NOT NULL;

-- Case numbers come from one sequence per local day, created on the day's first case. A counter
-- row updated by every batch becomes a hot row whose version chain every writer must walk; a
-- sequence hands out numbers without row locks or new row versions. Sequences are not
-- transactional, so a failed batch leaves a gap, never a duplicate.
-- +goose StatementBegin
CREATE FUNCTION case_no_reserve(p_day text, p_n integer) RETURNS SETOF bigint
LANGUAGE plpgsql AS $$
DECLARE
    seq_name text := 'case_no_seq_' || p_day;
    seq regclass;
BEGIN
    IF p_day !~ '^[0-9]{8}$' THEN
        RAISE EXCEPTION 'case_no_reserve: day % is not YYYYMMDD', p_day;
    END IF;
    seq := to_regclass(seq_name);
    IF seq IS NULL THEN
        BEGIN
            EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I AS bigint', seq_name);
        EXCEPTION WHEN unique_violation OR duplicate_table THEN
            NULL; -- another transaction created it first
        END;
        seq := to_regclass(seq_name);
    END IF;
    RETURN QUERY SELECT nextval(seq) FROM generate_series(1, p_n);
END
$$;
-- +goose StatementEnd

-- The gateway's own record of every event to forward; job rows are pruned, these are not.
CREATE TABLE deliveries (
    id          uuid PRIMARY KEY,
    case_id     uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    event       text NOT NULL,
    target      text NOT NULL,
    state       text NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE INDEX deliveries_case ON deliveries (case_id, created_at);
CREATE INDEX deliveries_state ON deliveries (state, created_at);

-- +goose Down
DROP TABLE deliveries;
DROP FUNCTION case_no_reserve(text, integer);
DROP TABLE case_status_history;
DROP TABLE case_payloads;
DROP TABLE cases;
