-- +goose Up
-- Signatures of webhook requests whose signature does not cover the body (WeChat plaintext
-- pushes, Weibo, webhook channels signing a timestamp and nonce), each bound to the hash of the
-- body it first came with, until its timestamp leaves the channel's window. The signature alone
-- is the key: a sorted-and-concatenated signature also verifies for another split of the same
-- digits into timestamp and nonce. Expired rows are deleted every minute.
CREATE TABLE request_nonces (
    channel_id TEXT NOT NULL,
    signature  TEXT NOT NULL,
    nonce      TEXT NOT NULL,
    body_hash  TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (channel_id, signature)
);

-- Failed status look-ups per key (a case number, a sender).
CREATE TABLE lookup_failures (
    key          TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    locked_until INTEGER,
    -- when the row no longer matters: the window is over and any lockout has ended
    expires_at   INTEGER NOT NULL
);

-- What a channel message that became a supplement or a survey answer carried, so that its
-- external id used again for other content is not answered as a retry. Empty for older rows.
ALTER TABLE case_messages ADD COLUMN payload_hash TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE case_messages DROP COLUMN payload_hash;
DROP TABLE lookup_failures;
DROP TABLE request_nonces;
