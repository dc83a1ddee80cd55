-- +goose Up
-- Follow-up messages that joined an existing case; with cases' own (channel_id, external_id) this
-- makes every channel message idempotent, whatever it became.
CREATE TABLE case_messages (
    channel_id   TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    case_id      TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    kind         TEXT NOT NULL,
    received_at  INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    body         BLOB NOT NULL,
    PRIMARY KEY (channel_id, external_id)
);
CREATE INDEX case_messages_case ON case_messages (case_id, received_at);

-- A citizen's cases, newest first, for status queries, conversation threading and repeat
-- detection: indexed lookups whose cost does not grow with the number of cases.
CREATE INDEX cases_citizen_openid ON cases (citizen_openid, received_at DESC) WHERE citizen_openid IS NOT NULL;
CREATE INDEX cases_citizen_phone ON cases (citizen_phone, received_at DESC) WHERE citizen_phone IS NOT NULL;
CREATE INDEX cases_citizen_weibo ON cases (citizen_weibo_uid, received_at DESC) WHERE citizen_weibo_uid IS NOT NULL;

CREATE TABLE opt_outs (
    channel_id TEXT NOT NULL,
    address    TEXT NOT NULL,
    opted_out  INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, address)
);

CREATE TABLE citizen_locations (
    channel_id TEXT NOT NULL,
    key_kind   TEXT NOT NULL,
    key_value  TEXT NOT NULL,
    location   TEXT NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (channel_id, key_kind, key_value)
);

-- +goose Down
DROP TABLE citizen_locations;
DROP TABLE opt_outs;
DROP INDEX cases_citizen_weibo;
DROP INDEX cases_citizen_phone;
DROP INDEX cases_citizen_openid;
DROP TABLE case_messages;
