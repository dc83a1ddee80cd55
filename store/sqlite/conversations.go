package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/store"
)

// lookupMessage finds what a channel message already became, and the payload hash it came with.
func (s *Store) lookupMessage(ctx context.Context, channelID, externalID string) (id string, kind intake.MessageKind, hash string, found bool, err error) {
	err = s.db.QueryRowContext(ctx, `
		SELECT id, 'case', payload_hash FROM cases WHERE channel_id = ?1 AND external_id = ?2
		UNION ALL
		SELECT case_id, kind, payload_hash FROM case_messages WHERE channel_id = ?1 AND external_id = ?2
		LIMIT 1`, channelID, externalID).Scan(&id, &kind, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", "", false, nil
	}
	if err != nil {
		return "", "", "", false, unavailable(fmt.Errorf("look up message: %w", err))
	}
	return id, kind, hash, true, nil
}

// LatestCase returns the citizen's newest case.
func (s *Store) LatestCase(ctx context.Context, who intake.CitizenKey, channelID string, since time.Time) (*intake.Case, error) {
	col, err := store.CitizenColumn(who.Kind)
	if err != nil {
		return nil, err
	}
	sinceUS := int64(0)
	if !since.IsZero() {
		sinceUS = micros(since)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+caseColumns+` FROM cases c
		WHERE c.`+col+` = ?1 AND (?2 = '' OR c.channel_id = ?2) AND c.received_at >= ?3
		ORDER BY c.received_at DESC LIMIT 1`, who.Value, channelID, sinceUS)
	if err != nil {
		return nil, unavailable(fmt.Errorf("latest case: %w", err))
	}
	cases, err := s.scanCases(ctx, s.db, rows)
	if err != nil {
		return nil, unavailable(err)
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("latest case: %w", intake.ErrNotFound)
	}
	return cases[0].Case, nil
}

// AddSupplement joins a follow-up message to a case in one transaction with its case.updated job.
// The transaction holds SQLite's write lock from its start, so the supplements of one case are
// counted and measured one at a time and concurrent ones cannot together take it past its limits.
func (s *Store) AddSupplement(ctx context.Context, caseID string, sup intake.Supplement) (intake.SupplementResult, error) {
	if err := store.SupplementTooLong(sup); err != nil {
		return intake.SupplementResult{}, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	applied, hash, err := s.addSupplement(ctx, caseID, sup, now)
	if err != nil {
		return intake.SupplementResult{}, unavailable(err)
	}
	c, err := s.GetCase(ctx, caseID)
	if err != nil {
		return intake.SupplementResult{}, err
	}
	return intake.SupplementResult{Case: c, Applied: applied, PayloadHash: hash}, nil
}

// addSupplement reports whether the supplement was applied, and the payload hash its message is
// stored with (the first delivery's on a repeat).
func (s *Store) addSupplement(ctx context.Context, caseID string, sup intake.Supplement, now time.Time) (bool, string, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, "", fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var record []byte
	if err := tx.QueryRowContext(ctx, `SELECT record FROM cases WHERE id = ?`, caseID).Scan(&record); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, "", fmt.Errorf("case %q: %w", caseID, intake.ErrNotFound)
		}
		return false, "", fmt.Errorf("read case: %w", err)
	}
	ct := sup.Raw.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	body := sup.Raw.Body
	if body == nil {
		body = []byte{}
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO case_messages (channel_id, external_id, case_id, kind, received_at, content_type, body, payload_hash)
		VALUES (?, ?, ?, 'supplement', ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		sup.ChannelID, sup.ExternalID, caseID, micros(sup.ReceivedAt), ct, body, sup.PayloadHash)
	if err != nil {
		return false, "", fmt.Errorf("record supplement: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// A retry: already applied (to this case or, for an id used again, another one).
		var storedHash string
		if err := tx.QueryRowContext(ctx, `SELECT payload_hash FROM case_messages WHERE channel_id = ? AND external_id = ?`,
			sup.ChannelID, sup.ExternalID).Scan(&storedHash); err != nil {
			return false, "", fmt.Errorf("read supplement: %w", err)
		}
		return false, storedHash, nil
	}
	var c intake.Case
	if err := json.Unmarshal(record, &c); err != nil {
		return false, "", fmt.Errorf("decode case: %w", err)
	}
	offset := len(c.Attachments)
	store.ApplySupplement(&c, sup, s.opts.Location)
	if lim := sup.Limits; lim != (intake.SupplementLimits{}) {
		var count int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM case_messages WHERE case_id = ? AND kind = 'supplement'`, caseID).Scan(&count); err != nil {
			return false, "", fmt.Errorf("count supplements: %w", err)
		}
		if store.CaseFull(c.Content.Text, count, lim) {
			return false, "", fmt.Errorf("case %s: %w", c.CaseNo, intake.ErrCaseFull)
		}
	}
	rec, err := store.EncodeRecord(&c)
	if err != nil {
		return false, "", err
	}
	var target string
	err = tx.QueryRowContext(ctx, `SELECT target FROM deliveries WHERE case_id = ? AND event = 'case.created' ORDER BY created_at LIMIT 1`, caseID).Scan(&target)
	if errors.Is(err, sql.ErrNoRows) {
		target = s.opts.DefaultTarget
	} else if err != nil {
		return false, "", fmt.Errorf("find case target: %w", err)
	}
	d, job := store.NewUpdateDelivery(&c, target, now)
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET record = ?, updated_at = ? WHERE id = ?`, string(rec), micros(now), caseID); err != nil {
		return false, "", fmt.Errorf("update case: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, case_id, event, target, state, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?)`,
		d.ID, caseID, d.Event, d.Target, micros(now), micros(now)); err != nil {
		return false, "", fmt.Errorf("insert delivery: %w", err)
	}
	if _, err := s.river.InsertManyFastTx(ctx, tx, append([]river.InsertManyParams{{Args: job, InsertOpts: &river.InsertOpts{
		Queue: jobs.ForwardQueue(target), Priority: store.JobPriority(&c),
	}}}, store.FetchJobs(&c, offset, sup.Fetch)...)); err != nil {
		return false, "", fmt.Errorf("enqueue case.updated: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, "", fmt.Errorf("commit supplement: %w", err)
	}
	return true, sup.PayloadHash, nil
}

// SetOptOut records an opt-out or opt-in.
func (s *Store) SetOptOut(ctx context.Context, channelID, address string, optOut bool, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO opt_outs (channel_id, address, opted_out, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (channel_id, address) DO UPDATE SET opted_out = excluded.opted_out, updated_at = excluded.updated_at
		WHERE opt_outs.updated_at <= excluded.updated_at`, channelID, address, optOut, micros(at))
	if err != nil {
		return unavailable(fmt.Errorf("set opt-out: %w", err))
	}
	return nil
}

// OptedOut reports whether notifications to address are stopped.
func (s *Store) OptedOut(ctx context.Context, channelID, address string) (bool, error) {
	var out bool
	err := s.db.QueryRowContext(ctx, `SELECT opted_out FROM opt_outs WHERE channel_id = ? AND address = ?`, channelID, address).Scan(&out)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, unavailable(fmt.Errorf("read opt-out: %w", err))
	}
	return out, nil
}

// RememberLocation keeps the citizen's last position.
func (s *Store) RememberLocation(ctx context.Context, who intake.CitizenKey, channelID string, loc intake.Location, at time.Time) error {
	b, err := json.Marshal(loc)
	if err != nil {
		return fmt.Errorf("encode location: %w", err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO citizen_locations (channel_id, key_kind, key_value, location, at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (channel_id, key_kind, key_value) DO UPDATE SET location = excluded.location, at = excluded.at
		WHERE citizen_locations.at <= excluded.at`, channelID, string(who.Kind), who.Value, string(b), micros(at))
	if err != nil {
		return unavailable(fmt.Errorf("remember location: %w", err))
	}
	return nil
}

// recentLocation returns the position remembered since the given time.
func (s *Store) recentLocation(ctx context.Context, who intake.CitizenKey, channelID string, since time.Time) (*intake.Location, error) {
	var raw []byte
	err := s.db.QueryRowContext(ctx, `SELECT location FROM citizen_locations WHERE channel_id = ? AND key_kind = ? AND key_value = ? AND at >= ?`,
		channelID, string(who.Kind), who.Value, micros(since)).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("recent location: %w", err))
	}
	var loc intake.Location
	if err := json.Unmarshal(raw, &loc); err != nil {
		return nil, fmt.Errorf("decode location: %w", err)
	}
	return &loc, nil
}

// RecentCases returns the citizen's cases since the given time under any of their identifiers,
// one indexed lookup per identifier.
func (s *Store) RecentCases(ctx context.Context, who []intake.CitizenKey, since time.Time, limit int) ([]*intake.Case, error) {
	var (
		parts []string
		args  []any
	)
	for _, k := range who {
		col, err := store.CitizenColumn(k.Kind)
		if err != nil {
			return nil, err
		}
		parts = append(parts, `SELECT * FROM (SELECT id, received_at FROM cases WHERE `+col+` = ? AND received_at >= ? ORDER BY received_at DESC LIMIT ?)`)
		args = append(args, k.Value, micros(since), limit)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, `SELECT `+caseColumns+` FROM cases c JOIN (`+strings.Join(parts, " UNION ")+`) r ON r.id = c.id
		ORDER BY r.received_at DESC LIMIT ?`, args...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("recent cases: %w", err))
	}
	found, err := s.scanCases(ctx, s.db, rows)
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]*intake.Case, len(found))
	for i, f := range found {
		out[i] = f.Case
	}
	return out, nil
}

// RecordFeedback stores a satisfaction answer with its case.feedback delivery.
func (s *Store) RecordFeedback(ctx context.Context, caseID string, fb intake.Feedback) (bool, error) {
	applied, err := s.recordFeedback(ctx, caseID, fb)
	return applied, unavailable(err)
}

func (s *Store) recordFeedback(ctx context.Context, caseID string, fb intake.Feedback) (bool, error) {
	now := s.clock.Now().UTC()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var current, priority string
	if err := tx.QueryRowContext(ctx, `SELECT status, priority FROM cases WHERE id = ?`, caseID).Scan(&current, &priority); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("case %q: %w", caseID, intake.ErrNotFound)
		}
		return false, fmt.Errorf("read case: %w", err)
	}
	body, ct := fb.Raw.Body, fb.Raw.ContentType
	if body == nil {
		body = []byte{}
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO case_messages (channel_id, external_id, case_id, kind, received_at, content_type, body, payload_hash)
		VALUES (?, ?, ?, 'feedback', ?, ?, ?, ?) ON CONFLICT DO NOTHING`, fb.ChannelID, fb.ExternalID, caseID, micros(fb.ReceivedAt), ct, body, fb.PayloadHash)
	if err != nil {
		return false, fmt.Errorf("record feedback message: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	at := micros(fb.ReceivedAt)
	if _, err := tx.ExecContext(ctx, `INSERT INTO case_status_history (case_id, status, event, at, source, message, recorded_at)
		VALUES (?, ?, 'feedback', ?, 'citizen', ?, ?)`, caseID, current, at, fb.Rating+": "+fb.Text, micros(now)); err != nil {
		return false, fmt.Errorf("record feedback: %w", err)
	}
	if fb.Reopen {
		if _, err := tx.ExecContext(ctx, `INSERT INTO case_status_history (case_id, status, event, at, source, message, recorded_at)
			VALUES (?, 'assigned', 'reopened', ?, 'gateway', '市民不满意，重新办理', ?)`, caseID, at, micros(now)); err != nil {
			return false, fmt.Errorf("reopen: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET status = 'assigned', updated_at = ? WHERE id = ?`, micros(now), caseID); err != nil {
			return false, fmt.Errorf("reopen: %w", err)
		}
	}
	var target string
	if err := tx.QueryRowContext(ctx, `SELECT target FROM deliveries WHERE case_id = ? ORDER BY created_at LIMIT 1`, caseID).Scan(&target); err != nil {
		target = s.opts.DefaultTarget
	}
	c := &intake.Case{ID: caseID, Priority: intake.Priority(priority)}
	d, job := store.NewDelivery(c, intake.EventCaseFeedback, target, now)
	if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, case_id, event, target, state, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?)`,
		d.ID, caseID, d.Event, d.Target, micros(now), micros(now)); err != nil {
		return false, fmt.Errorf("insert delivery: %w", err)
	}
	if _, err := s.river.InsertManyFastTx(ctx, tx, []river.InsertManyParams{{Args: job, InsertOpts: &river.InsertOpts{
		Queue: jobs.ForwardQueue(target), Priority: store.JobPriority(c),
	}}}); err != nil {
		return false, fmt.Errorf("enqueue case.feedback: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit feedback: %w", err)
	}
	return true, nil
}

// SetAttachment replaces one attachment of a case's record.
func (s *Store) SetAttachment(ctx context.Context, caseID string, index int, att intake.Attachment) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var record []byte
	if err := tx.QueryRowContext(ctx, `SELECT record FROM cases WHERE id = ?`, caseID).Scan(&record); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("case %q: %w", caseID, intake.ErrNotFound)
		}
		return fmt.Errorf("read case: %w", err)
	}
	rec, err := store.ReplaceAttachment(record, index, att)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET record = ?, updated_at = ? WHERE id = ?`, string(rec), micros(s.clock.Now()), caseID); err != nil {
		return fmt.Errorf("update attachment: %w", err)
	}
	return tx.Commit()
}

// MessageContext runs the three look-ups in turn: on an embedded database they cost no round
// trips, so there is nothing to gain from combining them.
func (s *Store) MessageContext(ctx context.Context, q intake.MessageQuery) (intake.MessageContext, error) {
	var (
		out intake.MessageContext
		err error
	)
	if out.CaseID, out.Kind, out.PayloadHash, out.Handled, err = s.lookupMessage(ctx, q.ChannelID, q.ExternalID); err != nil {
		return out, err
	}
	if len(q.Citizen) > 0 {
		if out.Recent, err = s.RecentCases(ctx, q.Citizen, q.RecentSince, q.RecentLimit); err != nil {
			return out, err
		}
	}
	if q.LocationOf != nil {
		if out.Location, err = s.recentLocation(ctx, *q.LocationOf, q.ChannelID, q.LocationSince); err != nil {
			return out, err
		}
	}
	return out, nil
}
