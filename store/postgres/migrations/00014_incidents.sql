-- +goose Up
-- Hot-topic incidents: clusters of alike cases (same category and district, similar text) that
-- grew past the configured size within the clustering window. Only derived data is kept here:
-- the summary is wording shared by many citizens' texts, never one citizen's text.
CREATE TABLE incidents (
    id                uuid PRIMARY KEY,
    category          text NOT NULL,
    district          text NOT NULL,
    summary           text NOT NULL DEFAULT '',
    state             text NOT NULL,
    size              integer NOT NULL,
    first_seen        timestamptz NOT NULL,
    last_seen         timestamptz NOT NULL,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    closed_at         timestamptz,
    -- The one incident.opened webhook: '' (none configured), queued, delivered or dead.
    announcement      text NOT NULL DEFAULT '',
    announce_attempts integer NOT NULL DEFAULT 0,
    announce_error    text NOT NULL DEFAULT ''
);
CREATE INDEX incidents_state_seen ON incidents (state, last_seen DESC, id);

-- A case is a member of at most one incident: the primary key is what keeps two clustering runs
-- racing over the same burst from opening it twice.
CREATE TABLE incident_cases (
    case_id     uuid PRIMARY KEY REFERENCES cases (id) ON DELETE CASCADE,
    incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    received_at timestamptz NOT NULL,
    joined_at   timestamptz NOT NULL
);
CREATE INDEX incident_cases_incident ON incident_cases (incident_id, received_at DESC);

-- +goose Down
DROP TABLE incident_cases;
DROP TABLE incidents;
