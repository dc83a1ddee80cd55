-- +goose Up
-- Messages to citizens about their cases, with what became of each (the platform's delivery
-- reports update them through provider_ref).
CREATE TABLE notifications (
    id           uuid PRIMARY KEY,
    case_id      uuid NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    event        text NOT NULL,
    channel      text NOT NULL,
    channel_id   text NOT NULL,
    address      text NOT NULL,
    body         text NOT NULL,
    state        text NOT NULL,
    reason       text NOT NULL DEFAULT '',
    provider_ref text NOT NULL DEFAULT '',
    attempts     integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX notifications_case ON notifications (case_id, created_at);
CREATE INDEX notifications_provider ON notifications (channel_id, provider_ref) WHERE provider_ref <> '';

-- Short-lived platform credentials shared by every replica (WeChat access tokens).
CREATE TABLE platform_tokens (
    key        text PRIMARY KEY,
    value      text NOT NULL,
    expires_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE platform_tokens;
DROP TABLE notifications;
