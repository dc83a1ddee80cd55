package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/store"
)

// topicsLockID serialises the clustering runs of every replica (ApplyTopics): each one's checks
// then see what the one before committed.
const topicsLockID = 0x1234_5000_0014

const incidentColumns = `id::text, category, district, summary, state, size, first_seen, last_seen, created_at, updated_at,
	closed_at, announcement, announce_attempts, announce_error`

func scanIncident(row pgx.Row) (intake.Incident, error) {
	var (
		in     intake.Incident
		closed *time.Time
	)
	err := row.Scan(&in.ID, &in.Category, &in.District, &in.Summary, &in.State, &in.Size, &in.FirstSeen, &in.LastSeen,
		&in.CreatedAt, &in.UpdatedAt, &closed, &in.Announcement, &in.AnnounceAttempts, &in.AnnounceError)
	if closed != nil {
		in.ClosedAt = closed.UTC()
	}
	in.FirstSeen, in.LastSeen, in.CreatedAt, in.UpdatedAt = in.FirstSeen.UTC(), in.LastSeen.UTC(), in.CreatedAt.UTC(), in.UpdatedAt.UTC()
	return in, err
}

// TopicCases reads the recent cases with what clustering compares: category, district and text
// from the record, and the incident each belongs to.
func (s *Store) TopicCases(ctx context.Context, since time.Time, limit int) ([]intake.TopicCase, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.id::text, c.case_no, c.received_at,
			COALESCE(c.record->'classification'->>'category', ''), COALESCE(c.record->'location'->>'district', ''),
			COALESCE(c.record->'content'->>'text', ''), COALESCE(c.record->'related'->>'duplicate_of', '') <> '',
			COALESCE(ic.incident_id::text, '')
		FROM (SELECT * FROM cases WHERE received_at >= $1 ORDER BY received_at DESC, id DESC LIMIT $2) c
		LEFT JOIN incident_cases ic ON ic.case_id = c.id
		ORDER BY c.received_at, c.id`, since, limit)
	if err != nil {
		return nil, unavailable(fmt.Errorf("recent cases for hot topics: %w", err))
	}
	defer rows.Close()
	var out []intake.TopicCase
	for rows.Next() {
		var tc intake.TopicCase
		if err := rows.Scan(&tc.ID, &tc.CaseNo, &tc.ReceivedAt, &tc.Category, &tc.District, &tc.Text, &tc.Repeat, &tc.IncidentID); err != nil {
			return nil, fmt.Errorf("scan topic case: %w", err)
		}
		tc.ReceivedAt = tc.ReceivedAt.UTC()
		out = append(out, tc)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("recent cases for hot topics: %w", err))
	}
	return out, nil
}

// refreshIncidentSQL recomputes an incident's size and times from its members.
const refreshIncidentSQL = `UPDATE incidents i SET size = m.n, first_seen = m.f, last_seen = m.l, updated_at = $2
	FROM (SELECT count(*) AS n, min(received_at) AS f, max(received_at) AS l FROM incident_cases WHERE incident_id = $1) m
	WHERE i.id = $1`

// ApplyTopics applies a clustering run under a transaction-scoped advisory lock.
func (s *Store) ApplyTopics(ctx context.Context, ch intake.TopicChanges) (intake.TopicResult, error) {
	now := ch.Now.UTC().Truncate(time.Microsecond)
	var res intake.TopicResult
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		res = intake.TopicResult{}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(topicsLockID)); err != nil {
			return fmt.Errorf("take the hot-topics lock: %w", err)
		}
		for _, g := range ch.Grow {
			var state string
			err := tx.QueryRow(ctx, `SELECT state FROM incidents WHERE id = $1 FOR UPDATE`, g.IncidentID).Scan(&state)
			if err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("lock incident: %w", err)
			}
			if state != string(intake.IncidentOpen) {
				continue // closed (or gone) since the run read it; its cases may start a new one next run
			}
			tag, err := tx.Exec(ctx, `INSERT INTO incident_cases (case_id, incident_id, received_at, joined_at)
				SELECT id, $1, received_at, $2 FROM cases WHERE id = ANY($3::uuid[])
				ON CONFLICT (case_id) DO NOTHING`, g.IncidentID, now, g.CaseIDs)
			if err != nil {
				return fmt.Errorf("add cases to incident: %w", err)
			}
			if tag.RowsAffected() == 0 {
				continue
			}
			res.Grown += int(tag.RowsAffected())
			if _, err := tx.Exec(ctx, refreshIncidentSQL, g.IncidentID, now); err != nil {
				return fmt.Errorf("update incident: %w", err)
			}
		}
		var announce []river.InsertManyParams
		for _, ni := range ch.Open {
			var taken int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM incident_cases WHERE case_id = ANY($1::uuid[])`, ni.CaseIDs).Scan(&taken); err != nil {
				return fmt.Errorf("check incident members: %w", err)
			}
			if taken > 0 {
				res.Skipped++
				continue
			}
			in := ni.Incident
			if in.ID == "" {
				in.ID = store.NewID()
			}
			announcement := ""
			if ch.Announce {
				announcement = string(intake.DeliveryQueued)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO incidents (id, category, district, summary, state, size, first_seen, last_seen,
					created_at, updated_at, announcement) VALUES ($1, $2, $3, $4, 'open', 0, $5, $5, $5, $5, $6)`,
				in.ID, in.Category, in.District, in.Summary, now, announcement); err != nil {
				return fmt.Errorf("insert incident: %w", err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO incident_cases (case_id, incident_id, received_at, joined_at)
				SELECT id, $1, received_at, $2 FROM cases WHERE id = ANY($3::uuid[])`, in.ID, now, ni.CaseIDs); err != nil {
				return fmt.Errorf("insert incident members: %w", err)
			}
			if _, err := tx.Exec(ctx, refreshIncidentSQL, in.ID, now); err != nil {
				return fmt.Errorf("update incident: %w", err)
			}
			stored, err := scanIncident(tx.QueryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = $1`, in.ID))
			if err != nil {
				return fmt.Errorf("read incident: %w", err)
			}
			res.Opened = append(res.Opened, stored)
			if ch.Announce {
				announce = append(announce, river.InsertManyParams{Args: jobs.AnnounceIncident{IncidentID: in.ID},
					InsertOpts: &river.InsertOpts{Queue: jobs.QueueHotTopics, MaxAttempts: jobs.AnnounceAttempts}})
			}
		}
		if len(announce) > 0 {
			if _, err := s.river.InsertManyFastTx(ctx, tx, announce); err != nil {
				return fmt.Errorf("enqueue incident announcements: %w", err)
			}
		}
		if !ch.CloseQuietBefore.IsZero() {
			tag, err := tx.Exec(ctx, `UPDATE incidents SET state = 'closed', closed_at = $2, updated_at = $2
				WHERE state = 'open' AND last_seen < $1`, ch.CloseQuietBefore, now)
			if err != nil {
				return fmt.Errorf("close quiet incidents: %w", err)
			}
			res.Closed = int(tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		return intake.TopicResult{}, unavailable(err)
	}
	return res, nil
}

// ListIncidents lists incidents, the most recently active first.
func (s *Store) ListIncidents(ctx context.Context, f intake.IncidentFilter) ([]intake.Incident, error) {
	var from, to *time.Time
	if !f.FirstSeenFrom.IsZero() {
		from = &f.FirstSeenFrom
	}
	if !f.FirstSeenTo.IsZero() {
		to = &f.FirstSeenTo
	}
	rows, err := s.pool.Query(ctx, `SELECT `+incidentColumns+` FROM incidents
		WHERE ($1 = '' OR state = $1) AND ($3::timestamptz IS NULL OR first_seen >= $3) AND ($4::timestamptz IS NULL OR first_seen < $4)
		ORDER BY last_seen DESC, id DESC LIMIT $2`, string(f.State), store.ListLimit(f.Limit), from, to)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list incidents: %w", err))
	}
	defer rows.Close()
	out := []intake.Incident{}
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("scan incident: %w", err)
		}
		out = append(out, in)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("list incidents: %w", err))
	}
	return out, nil
}

// CountIncidents counts the incidents in a state ("" for any).
func (s *Store) CountIncidents(ctx context.Context, state intake.IncidentState) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM incidents WHERE ($1 = '' OR state = $1)`, string(state)).Scan(&n); err != nil {
		return 0, unavailable(fmt.Errorf("count incidents: %w", err))
	}
	return n, nil
}

// GetIncident reads one incident.
func (s *Store) GetIncident(ctx context.Context, id string) (*intake.Incident, error) {
	if !store.IsUUID(id) {
		return nil, fmt.Errorf("incident %q: %w", id, intake.ErrNotFound)
	}
	in, err := scanIncident(s.pool.QueryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("incident %q: %w", id, intake.ErrNotFound)
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("get incident: %w", err))
	}
	return &in, nil
}

// IncidentCases lists an incident's member cases, newest first.
func (s *Store) IncidentCases(ctx context.Context, id string, limit int) ([]*intake.Case, error) {
	if !store.IsUUID(id) {
		return nil, fmt.Errorf("incident %q: %w", id, intake.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+caseColumns+` FROM incident_cases ic JOIN cases c ON c.id = ic.case_id
		WHERE ic.incident_id = $1 ORDER BY ic.received_at DESC, ic.case_id DESC LIMIT $2`, id, store.ListLimit(limit))
	if err != nil {
		return nil, unavailable(fmt.Errorf("incident cases: %w", err))
	}
	stored, err := scanCases(rows)
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]*intake.Case, len(stored))
	for i, sc := range stored {
		out[i] = sc.Case
	}
	return out, nil
}

// RecordAnnouncement stores a try at an incident's announcement; a settled one stays settled.
func (s *Store) RecordAnnouncement(ctx context.Context, o intake.AnnouncementOutcome) error {
	if !store.IsUUID(o.IncidentID) {
		return fmt.Errorf("incident %q: %w", o.IncidentID, intake.ErrNotFound)
	}
	_, err := s.pool.Exec(ctx, `UPDATE incidents SET announcement = $2, announce_error = $3, announce_attempts = announce_attempts + 1,
			updated_at = $4
		WHERE id = $1 AND announcement NOT IN ('delivered', 'dead')`, o.IncidentID, string(o.State), o.Error, o.At.UTC())
	if err != nil {
		return unavailable(fmt.Errorf("record incident announcement: %w", err))
	}
	return nil
}
