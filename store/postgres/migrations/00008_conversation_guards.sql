-- +goose Up
-- Signatures of webhook requests whose signature does not cover the body (WeChat plaintext
-- pushes, Weibo, webhook channels signing a timestamp and nonce), each bound to the hash of the
-- body it first came with, until its timestamp leaves the channel's window. The signature alone
-- is the key: a sorted-and-concatenated signature also verifies for another split of the same
-- digits into timestamp and nonce. Expired rows are deleted every minute; the table holds about
-- one window of traffic, so the delete scans it rather than keep a second index up to date on
-- every request.
CREATE TABLE request_nonces (
    channel_id text NOT NULL,
    signature  text NOT NULL,
    nonce      text NOT NULL,
    body_hash  text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (channel_id, signature)
);

-- Failed status look-ups per key (a case number, a sender), shared by every replica.
CREATE TABLE lookup_failures (
    key          text PRIMARY KEY,
    failures     integer NOT NULL,
    window_start timestamptz NOT NULL,
    locked_until timestamptz,
    -- when the row no longer matters: the window is over and any lockout has ended
    expires_at   timestamptz NOT NULL
);

-- What a channel message that became a supplement or a survey answer carried, so that its
-- external id used again for other content is not answered as a retry. Empty for older rows.
ALTER TABLE case_messages ADD COLUMN payload_hash text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE case_messages DROP COLUMN payload_hash;
DROP TABLE lookup_failures;
DROP TABLE request_nonces;
