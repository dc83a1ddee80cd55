package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/store"
)

const incidentColumns = `id, category, district, summary, state, size, first_seen, last_seen, created_at, updated_at,
	closed_at, announcement, announce_attempts, announce_error`

func scanIncident(row interface{ Scan(...any) error }) (intake.Incident, error) {
	var (
		in                            intake.Incident
		first, last, created, updated int64
		closed                        sql.NullInt64
	)
	err := row.Scan(&in.ID, &in.Category, &in.District, &in.Summary, &in.State, &in.Size, &first, &last,
		&created, &updated, &closed, &in.Announcement, &in.AnnounceAttempts, &in.AnnounceError)
	in.FirstSeen, in.LastSeen, in.CreatedAt, in.UpdatedAt = fromMicros(first), fromMicros(last), fromMicros(created), fromMicros(updated)
	if closed.Valid {
		in.ClosedAt = fromMicros(closed.Int64)
	}
	return in, err
}

// idList is a JSON array of ids for `IN (SELECT value FROM json_each(?))`: one parameter
// however many ids.
func idList(ids []string) (string, error) {
	if ids == nil {
		ids = []string{}
	}
	b, err := json.Marshal(ids)
	if err != nil {
		return "", fmt.Errorf("encode ids: %w", err)
	}
	return string(b), nil
}

// TopicCases reads the recent cases with what clustering compares: category, district and text
// from the record, and the incident each belongs to.
func (s *Store) TopicCases(ctx context.Context, since time.Time, limit int) ([]intake.TopicCase, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT c.id, c.case_no, c.received_at,
			COALESCE(json_extract(c.record, '$.classification.category'), ''), COALESCE(json_extract(c.record, '$.location.district'), ''),
			COALESCE(json_extract(c.record, '$.content.text'), ''), COALESCE(json_extract(c.record, '$.related.duplicate_of'), '') <> '',
			COALESCE(ic.incident_id, '')
		FROM (SELECT * FROM cases WHERE received_at >= ? ORDER BY received_at DESC, id DESC LIMIT ?) c
		LEFT JOIN incident_cases ic ON ic.case_id = c.id
		ORDER BY c.received_at, c.id`, micros(since), limit)
	if err != nil {
		return nil, unavailable(fmt.Errorf("recent cases for hot topics: %w", err))
	}
	defer rows.Close()
	var out []intake.TopicCase
	for rows.Next() {
		var (
			tc intake.TopicCase
			at int64
		)
		if err := rows.Scan(&tc.ID, &tc.CaseNo, &at, &tc.Category, &tc.District, &tc.Text, &tc.Repeat, &tc.IncidentID); err != nil {
			return nil, fmt.Errorf("scan topic case: %w", err)
		}
		tc.ReceivedAt = fromMicros(at)
		out = append(out, tc)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("recent cases for hot topics: %w", err))
	}
	return out, nil
}

// refreshIncidentSQL recomputes an incident's size and times from its members.
const refreshIncidentSQL = `UPDATE incidents SET
	size = (SELECT count(*) FROM incident_cases WHERE incident_id = ?1),
	first_seen = (SELECT min(received_at) FROM incident_cases WHERE incident_id = ?1),
	last_seen = (SELECT max(received_at) FROM incident_cases WHERE incident_id = ?1),
	updated_at = ?2
	WHERE id = ?1`

// ApplyTopics applies a clustering run in one write transaction; SQLite's single writer (the
// transaction starts IMMEDIATE) serialises the runs, so each one's checks see what the one
// before committed.
func (s *Store) ApplyTopics(ctx context.Context, ch intake.TopicChanges) (intake.TopicResult, error) {
	res, err := s.applyTopics(ctx, ch)
	if err != nil {
		return intake.TopicResult{}, unavailable(err)
	}
	return res, nil
}

func (s *Store) applyTopics(ctx context.Context, ch intake.TopicChanges) (intake.TopicResult, error) {
	now := micros(ch.Now)
	var res intake.TopicResult
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, g := range ch.Grow {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM incidents WHERE id = ?`, g.IncidentID).Scan(&state)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return res, fmt.Errorf("read incident: %w", err)
		}
		if state != string(intake.IncidentOpen) {
			continue // closed (or gone) since the run read it; its cases may start a new one next run
		}
		ids, err := idList(g.CaseIDs)
		if err != nil {
			return res, err
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO incident_cases (case_id, incident_id, received_at, joined_at)
			SELECT id, ?, received_at, ? FROM cases WHERE id IN (SELECT value FROM json_each(?))
			ON CONFLICT (case_id) DO NOTHING`, g.IncidentID, now, ids)
		if err != nil {
			return res, fmt.Errorf("add cases to incident: %w", err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return res, fmt.Errorf("add cases to incident: %w", err)
		}
		if n == 0 {
			continue
		}
		res.Grown += int(n)
		if _, err := tx.ExecContext(ctx, refreshIncidentSQL, g.IncidentID, now); err != nil {
			return res, fmt.Errorf("update incident: %w", err)
		}
	}
	var announce []river.InsertManyParams
	for _, ni := range ch.Open {
		ids, err := idList(ni.CaseIDs)
		if err != nil {
			return res, err
		}
		var taken int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM incident_cases WHERE case_id IN (SELECT value FROM json_each(?))`, ids).Scan(&taken); err != nil {
			return res, fmt.Errorf("check incident members: %w", err)
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO incidents (id, category, district, summary, state, size, first_seen, last_seen,
				created_at, updated_at, announcement) VALUES (?1, ?2, ?3, ?4, 'open', 0, ?5, ?5, ?5, ?5, ?6)`,
			in.ID, in.Category, in.District, in.Summary, now, announcement); err != nil {
			return res, fmt.Errorf("insert incident: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO incident_cases (case_id, incident_id, received_at, joined_at)
			SELECT id, ?, received_at, ? FROM cases WHERE id IN (SELECT value FROM json_each(?))`, in.ID, now, ids); err != nil {
			return res, fmt.Errorf("insert incident members: %w", err)
		}
		if _, err := tx.ExecContext(ctx, refreshIncidentSQL, in.ID, now); err != nil {
			return res, fmt.Errorf("update incident: %w", err)
		}
		stored, err := scanIncident(tx.QueryRowContext(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = ?`, in.ID))
		if err != nil {
			return res, fmt.Errorf("read incident: %w", err)
		}
		res.Opened = append(res.Opened, stored)
		if ch.Announce {
			announce = append(announce, river.InsertManyParams{Args: jobs.AnnounceIncident{IncidentID: in.ID},
				InsertOpts: &river.InsertOpts{Queue: jobs.QueueHotTopics, MaxAttempts: jobs.AnnounceAttempts}})
		}
	}
	if len(announce) > 0 {
		if _, err := s.river.InsertManyFastTx(ctx, tx, announce); err != nil {
			return res, fmt.Errorf("enqueue incident announcements: %w", err)
		}
	}
	if !ch.CloseQuietBefore.IsZero() {
		r, err := tx.ExecContext(ctx, `UPDATE incidents SET state = 'closed', closed_at = ?2, updated_at = ?2
			WHERE state = 'open' AND last_seen < ?1`, micros(ch.CloseQuietBefore), now)
		if err != nil {
			return res, fmt.Errorf("close quiet incidents: %w", err)
		}
		n, err := r.RowsAffected()
		if err != nil {
			return res, fmt.Errorf("close quiet incidents: %w", err)
		}
		res.Closed = int(n)
	}
	if err := tx.Commit(); err != nil {
		return res, fmt.Errorf("commit hot topics: %w", err)
	}
	return res, nil
}

// ListIncidents lists incidents, the most recently active first.
func (s *Store) ListIncidents(ctx context.Context, f intake.IncidentFilter) ([]intake.Incident, error) {
	var from, to sql.NullInt64
	if !f.FirstSeenFrom.IsZero() {
		from = sql.NullInt64{Int64: micros(f.FirstSeenFrom), Valid: true}
	}
	if !f.FirstSeenTo.IsZero() {
		to = sql.NullInt64{Int64: micros(f.FirstSeenTo), Valid: true}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+incidentColumns+` FROM incidents
		WHERE (?1 = '' OR state = ?1) AND (?3 IS NULL OR first_seen >= ?3) AND (?4 IS NULL OR first_seen < ?4)
		ORDER BY last_seen DESC, id DESC LIMIT ?2`, string(f.State), store.ListLimit(f.Limit), from, to)
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
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM incidents WHERE (?1 = '' OR state = ?1)`, string(state)).Scan(&n); err != nil {
		return 0, unavailable(fmt.Errorf("count incidents: %w", err))
	}
	return n, nil
}

// GetIncident reads one incident.
func (s *Store) GetIncident(ctx context.Context, id string) (*intake.Incident, error) {
	in, err := scanIncident(s.db.QueryRowContext(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("incident %q: %w", id, intake.ErrNotFound)
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("get incident: %w", err))
	}
	return &in, nil
}

// IncidentCases lists an incident's member cases, newest first.
func (s *Store) IncidentCases(ctx context.Context, id string, limit int) ([]*intake.Case, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+caseColumns+` FROM incident_cases ic JOIN cases c ON c.id = ic.case_id
		WHERE ic.incident_id = ? ORDER BY ic.received_at DESC, ic.case_id DESC LIMIT ?`, id, store.ListLimit(limit))
	if err != nil {
		return nil, unavailable(fmt.Errorf("incident cases: %w", err))
	}
	stored, err := s.scanCases(ctx, s.db, rows)
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
	_, err := s.db.ExecContext(ctx, `UPDATE incidents SET announcement = ?2, announce_error = ?3, announce_attempts = announce_attempts + 1,
			updated_at = ?4
		WHERE id = ?1 AND announcement NOT IN ('delivered', 'dead')`, o.IncidentID, string(o.State), o.Error, micros(o.At))
	if err != nil {
		return unavailable(fmt.Errorf("record incident announcement: %w", err))
	}
	return nil
}
