-- +goose Up
-- Follow-up messages that joined an existing case; with cases' own (channel_id, external_id) this
-- makes every channel message idempotent, whatever it became.
CREATE TABLE case_messages (
    channel_id   text NOT NULL,
    external_id  text NOT NULL,
    case_id      uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    kind         text NOT NULL,
    received_at  timestamptz NOT NULL,
    content_type text NOT NULL,
    body         bytea NOT NULL,
    PRIMARY KEY (channel_id, external_id)
);
CREATE INDEX case_messages_case ON case_messages (case_id, received_at);

-- A citizen's cases, newest first, for status queries, conversation threading and repeat
-- detection: indexed lookups whose cost does not grow with the number of cases.
CREATE INDEX cases_citizen_openid ON cases (citizen_openid, received_at DESC) WHERE citizen_openid IS NOT NULL;
CREATE INDEX cases_citizen_phone ON cases (citizen_phone, received_at DESC) WHERE citizen_phone IS NOT NULL;
CREATE INDEX cases_citizen_weibo ON cases (citizen_weibo_uid, received_at DESC) WHERE citizen_weibo_uid IS NOT NULL;

CREATE TABLE opt_outs (
    channel_id text NOT NULL,
    address    text NOT NULL,
    opted_out  boolean NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (channel_id, address)
);

CREATE TABLE citizen_locations (
    channel_id text NOT NULL,
    key_kind   text NOT NULL,
    key_value  text NOT NULL,
    location   jsonb NOT NULL,
    at         timestamptz NOT NULL,
    PRIMARY KEY (channel_id, key_kind, key_value)
);

-- +goose Down
DROP TABLE citizen_locations;
DROP TABLE opt_outs;
DROP INDEX cases_citizen_weibo;
DROP INDEX cases_citizen_phone;
DROP INDEX cases_citizen_openid;
DROP TABLE case_messages;
