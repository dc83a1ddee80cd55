-- +goose Up
-- Messages to citizens about their cases, with what became of each (the platform's delivery
-- reports update them through provider_ref).
CREATE TABLE notifications (
    id           TEXT PRIMARY KEY,
    case_id      TEXT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    event        TEXT NOT NULL,
    channel      TEXT NOT NULL,
    channel_id   TEXT NOT NULL,
    address      TEXT NOT NULL,
    body         TEXT NOT NULL,
    state        TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    provider_ref TEXT NOT NULL DEFAULT '',
    attempts     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX notifications_case ON notifications (case_id, created_at);
CREATE INDEX notifications_provider ON notifications (channel_id, provider_ref) WHERE provider_ref <> '';

-- Short-lived platform credentials shared by every replica (WeChat access tokens).
CREATE TABLE platform_tokens (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE platform_tokens;
DROP TABLE notifications;
