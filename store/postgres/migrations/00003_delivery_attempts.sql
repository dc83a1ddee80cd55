-- +goose Up
-- Every attempt to deliver an event to a case system, kept after the job queue prunes its rows,
-- so a dead delivery shows what each try got back.
CREATE TABLE delivery_attempts (
    delivery_id uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    at          timestamptz NOT NULL,
    status_code integer NOT NULL DEFAULT 0,
    error       text NOT NULL DEFAULT '',
    duration_us bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (delivery_id, attempt)
);
CREATE INDEX deliveries_state_updated ON deliveries (state, updated_at DESC, id DESC);

-- +goose Down
DROP INDEX deliveries_state_updated;
DROP TABLE delivery_attempts;
