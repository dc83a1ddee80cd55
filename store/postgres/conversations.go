package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/groupcommit"
)

const lookupMessageSQL = `
	SELECT id::text, 'case', payload_hash FROM cases WHERE channel_id = $1 AND external_id = $2
	UNION ALL
	SELECT case_id::text, kind, payload_hash FROM case_messages WHERE channel_id = $1 AND external_id = $2
	LIMIT 1`

const recentLocationSQL = `SELECT location FROM citizen_locations
	WHERE channel_id = $1 AND key_kind = $2 AND key_value = $3 AND at >= $4`

// LatestCase returns the citizen's newest case.
func (s *Store) LatestCase(ctx context.Context, who intake.CitizenKey, channelID string, since time.Time) (*intake.Case, error) {
	col, err := store.CitizenColumn(who.Kind)
	if err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+caseColumns+` FROM cases c
		WHERE c.`+col+` = $1 AND ($2 = '' OR c.channel_id = $2) AND c.received_at >= $3
		ORDER BY c.received_at DESC LIMIT 1`, who.Value, channelID, since.UTC())
	if err != nil {
		return nil, unavailable(fmt.Errorf("latest case: %w", err))
	}
	cases, err := scanCases(rows)
	if err != nil {
		return nil, unavailable(err)
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("latest case: %w", intake.ErrNotFound)
	}
	return cases[0].Case, nil
}

// AddSupplement joins a follow-up message to a case in one transaction with its case.updated job.
// The case row is locked first, so the supplements of one case are counted and measured one at a
// time and concurrent ones cannot together take it past its limits.
func (s *Store) AddSupplement(ctx context.Context, caseID string, sup intake.Supplement) (intake.SupplementResult, error) {
	if !store.IsUUID(caseID) {
		return intake.SupplementResult{}, fmt.Errorf("case %q: %w", caseID, intake.ErrNotFound)
	}
	if err := store.SupplementTooLong(sup); err != nil {
		return intake.SupplementResult{}, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	applied, storedHash := false, sup.PayloadHash
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var record []byte
		if err := tx.QueryRow(ctx, `SELECT record FROM cases WHERE id = $1 FOR UPDATE`, caseID).Scan(&record); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("case %q: %w", caseID, intake.ErrNotFound)
			}
			return fmt.Errorf("lock case: %w", err)
		}
		ct := sup.Raw.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		body := sup.Raw.Body
		if body == nil {
			body = []byte{}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO case_messages (channel_id, external_id, case_id, kind, received_at, content_type, body, payload_hash)
			VALUES ($1, $2, $3, 'supplement', $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
			sup.ChannelID, sup.ExternalID, caseID, sup.ReceivedAt.UTC(), ct, body, sup.PayloadHash)
		if err != nil {
			return fmt.Errorf("record supplement: %w", err)
		}
		if tag.RowsAffected() == 0 {
			// A retry: already applied (to this case or, for an id used again, another one).
			if err := tx.QueryRow(ctx, `SELECT payload_hash FROM case_messages WHERE channel_id = $1 AND external_id = $2`,
				sup.ChannelID, sup.ExternalID).Scan(&storedHash); err != nil {
				return fmt.Errorf("read supplement: %w", err)
			}
			return nil
		}
		var c intake.Case
		if err := json.Unmarshal(record, &c); err != nil {
			return fmt.Errorf("decode case: %w", err)
		}
		offset := len(c.Attachments)
		store.ApplySupplement(&c, sup, s.opts.Location)
		if lim := sup.Limits; lim != (intake.SupplementLimits{}) {
			var count int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM case_messages WHERE case_id = $1 AND kind = 'supplement'`, caseID).Scan(&count); err != nil {
				return fmt.Errorf("count supplements: %w", err)
			}
			if store.CaseFull(c.Content.Text, count, lim) {
				return fmt.Errorf("case %s: %w", c.CaseNo, intake.ErrCaseFull)
			}
		}
		rec, err := store.EncodeRecord(&c)
		if err != nil {
			return err
		}
		var target string
		err = tx.QueryRow(ctx, `SELECT target FROM deliveries WHERE case_id = $1 AND event = 'case.created' ORDER BY created_at LIMIT 1`, caseID).Scan(&target)
		if errors.Is(err, pgx.ErrNoRows) {
			target = s.opts.DefaultTarget
		} else if err != nil {
			return fmt.Errorf("find case target: %w", err)
		}
		d, job := store.NewUpdateDelivery(&c, target, now)
		b := &pgx.Batch{}
		b.Queue(`UPDATE cases SET record = $2, updated_at = $3 WHERE id = $1`, caseID, string(rec), now)
		b.Queue(`INSERT INTO deliveries (id, case_id, event, target, state, created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, $5)`,
			d.ID, caseID, d.Event, d.Target, now)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("update case: %w", err)
		}
		if _, err := s.river.InsertManyFastTx(ctx, tx, append([]river.InsertManyParams{{Args: job, InsertOpts: &river.InsertOpts{
			Queue: jobs.ForwardQueue(target), Priority: store.JobPriority(&c),
		}}}, store.FetchJobs(&c, offset, sup.Fetch)...)); err != nil {
			return fmt.Errorf("enqueue case.updated: %w", err)
		}
		applied = true
		return nil
	})
	if err != nil {
		return intake.SupplementResult{}, unavailable(err)
	}
	c, err := s.GetCase(ctx, caseID)
	if err != nil {
		return intake.SupplementResult{}, err
	}
	return intake.SupplementResult{Case: c, Applied: applied, PayloadHash: storedHash}, nil
}

// SetOptOut records an opt-out or opt-in.
func (s *Store) SetOptOut(ctx context.Context, channelID, address string, optOut bool, at time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO opt_outs (channel_id, address, opted_out, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (channel_id, address) DO UPDATE SET opted_out = EXCLUDED.opted_out, updated_at = EXCLUDED.updated_at
		WHERE opt_outs.updated_at <= EXCLUDED.updated_at`, channelID, address, optOut, at.UTC())
	if err != nil {
		return unavailable(fmt.Errorf("set opt-out: %w", err))
	}
	return nil
}

// OptedOut reports whether notifications to address are stopped.
func (s *Store) OptedOut(ctx context.Context, channelID, address string) (bool, error) {
	var out bool
	err := s.pool.QueryRow(ctx, `SELECT opted_out FROM opt_outs WHERE channel_id = $1 AND address = $2`, channelID, address).Scan(&out)
	if errors.Is(err, pgx.ErrNoRows) {
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
	_, err = s.pool.Exec(ctx, `INSERT INTO citizen_locations (channel_id, key_kind, key_value, location, at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (channel_id, key_kind, key_value) DO UPDATE SET location = EXCLUDED.location, at = EXCLUDED.at
		WHERE citizen_locations.at <= EXCLUDED.at`, channelID, string(who.Kind), who.Value, string(b), at.UTC())
	if err != nil {
		return unavailable(fmt.Errorf("remember location: %w", err))
	}
	return nil
}

func decodeLocation(raw []byte, err error) (*intake.Location, error) {
	if errors.Is(err, pgx.ErrNoRows) {
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
// Concurrent submissions' look-ups travel together (the message-context batcher): one pipeline
// and round trip for the group instead of a query each, which was a tenth of the gateway's CPU
// on REST intake.
func (s *Store) RecentCases(ctx context.Context, who []intake.CitizenKey, since time.Time, limit int) ([]*intake.Case, error) {
	if len(who) == 0 {
		return nil, nil
	}
	mc, err := s.MessageContext(ctx, intake.MessageQuery{Citizen: who, RecentSince: since, RecentLimit: limit})
	if err != nil {
		return nil, err
	}
	return mc.Recent, nil
}

func recentCasesQuery(who []intake.CitizenKey, since time.Time, limit int) (string, []any, error) {
	var parts []string
	args := []any{since.UTC(), limit}
	for _, k := range who {
		col, err := store.CitizenColumn(k.Kind)
		if err != nil {
			return "", nil, err
		}
		args = append(args, k.Value)
		parts = append(parts, fmt.Sprintf(`(SELECT id, received_at FROM cases WHERE %s = $%d AND received_at >= $1 ORDER BY received_at DESC LIMIT $2)`,
			col, len(args)))
	}
	if len(parts) == 0 {
		return "", nil, nil
	}
	return `SELECT ` + caseColumns + ` FROM cases c JOIN (` + strings.Join(parts, " UNION ") + `) r ON r.id = c.id
		ORDER BY r.received_at DESC LIMIT $2`, args, nil
}

func scanRecent(rows pgx.Rows) ([]*intake.Case, error) {
	found, err := scanCases(rows)
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]*intake.Case, len(found))
	for i, f := range found {
		out[i] = f.Case
	}
	return out, nil
}

// MessageContext answers a message's three look-ups (retry check, recent cases, remembered
// position). Concurrent messages share one pipelined batch (see readContexts).
func (s *Store) MessageContext(ctx context.Context, q intake.MessageQuery) (intake.MessageContext, error) {
	out, err := s.contexts.Do(ctx, q)
	if errors.Is(err, groupcommit.ErrClosed) {
		return out, fmt.Errorf("%w: store closed", intake.ErrUnavailable)
	}
	return out, unavailable(err)
}

// readContexts sends the look-ups of every waiting message in one pipeline: one write and one
// round trip for the whole group instead of one per message, which at a few thousand messages a
// second was the largest single share of the gateway's own CPU. A statement that fails aborts
// the rest of the pipeline, so any error fails the group and the batcher asks again one message
// at a time.
func (s *Store) readContexts(ctx context.Context, qs []intake.MessageQuery) ([]groupcommit.Outcome[intake.MessageContext], error) {
	outs := make([]groupcommit.Outcome[intake.MessageContext], len(qs))
	reads := make([]func(pgx.BatchResults) (intake.MessageContext, error), len(qs))
	b := &pgx.Batch{}
	for i, q := range qs {
		read, err := queueMessageContext(b, q)
		if err != nil {
			outs[i].Err = err
			continue
		}
		reads[i] = read
	}
	if b.Len() == 0 {
		return outs, nil
	}
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	for i, read := range reads {
		if read == nil {
			continue
		}
		v, err := read(br)
		if err != nil {
			return nil, err
		}
		outs[i].Value = v
	}
	if err := br.Close(); err != nil {
		return nil, unavailable(fmt.Errorf("message context: %w", err))
	}
	return outs, nil
}

// queueMessageContext adds q's statements to b and returns what reads their results, in order.
func queueMessageContext(b *pgx.Batch, q intake.MessageQuery) (func(pgx.BatchResults) (intake.MessageContext, error), error) {
	recentSQL, recentArgs, err := recentCasesQuery(q.Citizen, q.RecentSince, q.RecentLimit)
	if err != nil {
		return nil, err
	}
	// A query for recent cases alone (a submission's repeat check) asks about no message.
	lookup := q.ExternalID != ""
	if lookup {
		b.Queue(lookupMessageSQL, q.ChannelID, q.ExternalID)
	}
	if recentSQL != "" {
		b.Queue(recentSQL, recentArgs...)
	}
	if q.LocationOf != nil {
		b.Queue(recentLocationSQL, q.ChannelID, string(q.LocationOf.Kind), q.LocationOf.Value, q.LocationSince.UTC())
	}
	return func(br pgx.BatchResults) (intake.MessageContext, error) {
		var out intake.MessageContext
		if lookup {
			switch err := br.QueryRow().Scan(&out.CaseID, &out.Kind, &out.PayloadHash); {
			case err == nil:
				out.Handled = true
			case !errors.Is(err, pgx.ErrNoRows):
				return out, unavailable(fmt.Errorf("look up message: %w", err))
			}
		}
		if recentSQL != "" {
			rows, err := br.Query()
			if err != nil {
				return out, unavailable(fmt.Errorf("recent cases: %w", err))
			}
			if out.Recent, err = scanRecent(rows); err != nil {
				return out, err
			}
		}
		if q.LocationOf != nil {
			var raw []byte
			scanErr := br.QueryRow().Scan(&raw)
			if out.Location, err = decodeLocation(raw, scanErr); err != nil {
				return out, err
			}
		}
		return out, nil
	}, nil
}

// RecordFeedback stores a satisfaction answer with its case.feedback delivery.
func (s *Store) RecordFeedback(ctx context.Context, caseID string, fb intake.Feedback) (bool, error) {
	if !store.IsUUID(caseID) {
		return false, fmt.Errorf("case %q: %w", caseID, intake.ErrNotFound)
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	applied := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var (
			current, priority string
			record            []byte
		)
		if err := tx.QueryRow(ctx, `SELECT status, priority, record FROM cases WHERE id = $1 FOR UPDATE`, caseID).Scan(&current, &priority, &record); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("case %q: %w", caseID, intake.ErrNotFound)
			}
			return fmt.Errorf("lock case: %w", err)
		}
		body, ct := fb.Raw.Body, fb.Raw.ContentType
		if body == nil {
			body = []byte{}
		}
		if ct == "" {
			ct = "application/octet-stream"
		}
		tag, err := tx.Exec(ctx, `INSERT INTO case_messages (channel_id, external_id, case_id, kind, received_at, content_type, body, payload_hash)
			VALUES ($1, $2, $3, 'feedback', $4, $5, $6, $7) ON CONFLICT DO NOTHING`, fb.ChannelID, fb.ExternalID, caseID, fb.ReceivedAt.UTC(), ct, body, fb.PayloadHash)
		if err != nil {
			return fmt.Errorf("record feedback message: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		at := fb.ReceivedAt.UTC()
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO case_status_history (case_id, status, event, at, source, message, recorded_at)
			VALUES ($1, $2, 'feedback', $3, 'citizen', $4, $5)`, caseID, current, at, fb.Rating+": "+fb.Text, now)
		if fb.Reopen {
			b.Queue(`INSERT INTO case_status_history (case_id, status, event, at, source, message, recorded_at)
				VALUES ($1, 'assigned', 'reopened', $2, 'gateway', '市民不满意，重新办理', $3)`, caseID, at, now)
			b.Queue(`UPDATE cases SET status = 'assigned', updated_at = $2 WHERE id = $1`, caseID, now)
		}
		var target string
		if err := tx.QueryRow(ctx, `SELECT target FROM deliveries WHERE case_id = $1 ORDER BY created_at LIMIT 1`, caseID).Scan(&target); err != nil {
			target = s.opts.DefaultTarget
		}
		c := &intake.Case{ID: caseID, Priority: intake.Priority(priority)}
		d, job := store.NewDelivery(c, intake.EventCaseFeedback, target, now)
		b.Queue(`INSERT INTO deliveries (id, case_id, event, target, state, created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, $5)`,
			d.ID, caseID, d.Event, d.Target, now)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("record feedback: %w", err)
		}
		if _, err := s.river.InsertManyFastTx(ctx, tx, []river.InsertManyParams{{Args: job, InsertOpts: &river.InsertOpts{
			Queue: jobs.ForwardQueue(target), Priority: store.JobPriority(c),
		}}}); err != nil {
			return fmt.Errorf("enqueue case.feedback: %w", err)
		}
		applied = true
		return nil
	})
	if err != nil {
		return false, unavailable(err)
	}
	return applied, nil
}

// SetAttachment replaces one attachment of a case's record.
func (s *Store) SetAttachment(ctx context.Context, caseID string, index int, att intake.Attachment) error {
	if !store.IsUUID(caseID) {
		return fmt.Errorf("case %q: %w", caseID, intake.ErrNotFound)
	}
	now := s.clock.Now().UTC()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var record []byte
		if err := tx.QueryRow(ctx, `SELECT record FROM cases WHERE id = $1 FOR UPDATE`, caseID).Scan(&record); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("case %q: %w", caseID, intake.ErrNotFound)
			}
			return fmt.Errorf("lock case: %w", err)
		}
		rec, err := store.ReplaceAttachment(record, index, att)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE cases SET record = $2, updated_at = $3 WHERE id = $1`, caseID, string(rec), now)
		return err
	})
	if err != nil {
		return unavailable(err)
	}
	return nil
}
