package postgres

import (
	"context"
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

const deliveryColumns = `id::text, case_id::text, event, target, state, attempts, last_error, created_at, updated_at`

func scanDelivery(row pgx.Row) (intake.Delivery, error) {
	var d intake.Delivery
	err := row.Scan(&d.ID, &d.CaseID, &d.Event, &d.Target, &d.State, &d.Attempts, &d.LastError, &d.CreatedAt, &d.UpdatedAt)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return d, err
}

// GetDelivery reads one delivery.
func (s *Store) GetDelivery(ctx context.Context, id string) (*intake.Delivery, error) {
	if !store.IsUUID(id) {
		return nil, fmt.Errorf("delivery %q: %w", id, intake.ErrNotFound)
	}
	d, err := scanDelivery(s.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("delivery %q: %w", id, intake.ErrNotFound)
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("get delivery: %w", err))
	}
	return &d, nil
}

// EarlierPending finds an earlier, undelivered delivery of the same case and target.
func (s *Store) EarlierPending(ctx context.Context, d intake.Delivery) (*intake.Delivery, error) {
	e, err := scanDelivery(s.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE case_id = $1 AND target = $2 AND state <> 'delivered' AND (created_at, id) < ($3, $4::uuid)
		ORDER BY created_at, id LIMIT 1`, d.CaseID, d.Target, d.CreatedAt, d.ID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("earlier deliveries: %w", err))
	}
	return &e, nil
}

// RecordOutcome stores an attempt; outcomes of concurrent workers share one transaction.
func (s *Store) RecordOutcome(ctx context.Context, o intake.DeliveryOutcome) error {
	_, err := s.outcomes.Do(ctx, o)
	if errors.Is(err, groupcommit.ErrClosed) {
		return fmt.Errorf("%w: store closed", intake.ErrUnavailable)
	}
	return err
}

func (s *Store) commitOutcomes(ctx context.Context, os []intake.DeliveryOutcome) ([]groupcommit.Outcome[struct{}], error) {
	n := len(os)
	var (
		aIDs                 []string
		aNos, aCodes         []int32
		aAts                 []time.Time
		aErrs                []string
		aDurs                []int64
		dIDs, dStates, dErrs = make([]string, n), make([]string, n), make([]string, n)
		dAttempts            = make([]int32, n)
		dAts                 = make([]time.Time, n)
		fCaseIDs, fRefs      []string
		fAts                 []time.Time
	)
	for i, o := range os {
		at := o.At.UTC().Truncate(time.Microsecond)
		dIDs[i], dStates[i], dErrs[i], dAttempts[i], dAts[i] = o.DeliveryID, string(o.State), o.Error, int32(o.Attempt), at
		if o.Attempt > 0 {
			aIDs, aNos, aAts = append(aIDs, o.DeliveryID), append(aNos, int32(o.Attempt)), append(aAts, at)
			aCodes, aErrs, aDurs = append(aCodes, int32(o.StatusCode)), append(aErrs, o.Error), append(aDurs, o.Duration.Microseconds())
		}
		if o.State == intake.DeliveryDelivered && intake.IsFirstEvent(o.Event) {
			fCaseIDs, fRefs, fAts = append(fCaseIDs, o.CaseID), append(fRefs, o.CaseRef), append(fAts, at)
		}
	}
	b := &pgx.Batch{}
	b.Queue(keyAccessOnly)
	b.Queue(`INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, error, duration_us)
		SELECT * FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::int[], $5::text[], $6::bigint[])
		ON CONFLICT DO NOTHING`, aIDs, aNos, aAts, aCodes, aErrs, aDurs)
	// A delivered delivery stays delivered whatever a late duplicate outcome says.
	b.Queue(`UPDATE deliveries d SET state = u.state, attempts = GREATEST(d.attempts, u.attempt), last_error = u.err, updated_at = u.at
		FROM unnest($1::uuid[], $2::text[], $3::text[], $4::int[], $5::timestamptz[]) AS u(id, state, err, attempt, at)
		WHERE d.id = u.id AND d.state <> 'delivered'`, dIDs, dStates, dErrs, dAttempts, dAts)
	b.Queue(`WITH f AS (
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS f(case_id, ref, at)
		), moved AS (
			UPDATE cases c SET status = 'forwarded', case_ref = COALESCE(NULLIF(f.ref, ''), c.case_ref), updated_at = f.at
			FROM f WHERE c.id = f.case_id AND c.status = 'received'
			RETURNING c.id, f.at
		)
		INSERT INTO case_status_history (case_id, status, event, at, source, recorded_at)
		SELECT id, 'forwarded', 'forwarded', at, 'gateway', at FROM moved`, fCaseIDs, fRefs, fAts)
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("record delivery outcomes: %w", err))
	}
	return make([]groupcommit.Outcome[struct{}], n), nil
}

// ListDeliveries pages through deliveries, most recently updated first.
func (s *Store) ListDeliveries(ctx context.Context, f intake.DeliveryFilter) (intake.DeliveryPage, error) {
	limit := store.ListLimit(f.Limit)
	var (
		where []string
		args  []any
	)
	arg := func(v any) string { args = append(args, v); return fmt.Sprintf("$%d", len(args)) }
	if f.State != "" {
		where = append(where, "state = "+arg(string(f.State)))
	}
	if f.Target != "" {
		where = append(where, "target = "+arg(f.Target))
	}
	if f.Cursor != "" {
		cur, err := store.DecodeCursor(f.Cursor)
		if err != nil {
			return intake.DeliveryPage{}, err
		}
		where = append(where, fmt.Sprintf("(updated_at, id) < (%s, %s::uuid)", arg(cur.ReceivedAt), arg(cur.ID)))
	}
	q := `SELECT ` + deliveryColumns + ` FROM deliveries`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY updated_at DESC, id DESC LIMIT " + arg(limit+1)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return intake.DeliveryPage{}, unavailable(fmt.Errorf("list deliveries: %w", err))
	}
	defer rows.Close()
	var page intake.DeliveryPage
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return intake.DeliveryPage{}, fmt.Errorf("scan delivery: %w", err)
		}
		if len(page.Deliveries) == limit {
			last := page.Deliveries[limit-1]
			page.NextCursor = store.Cursor{ReceivedAt: last.UpdatedAt, ID: last.ID}.Encode()
			break
		}
		page.Deliveries = append(page.Deliveries, d)
	}
	return page, rows.Err()
}

// DeliveryAttempts lists a delivery's attempts.
func (s *Store) DeliveryAttempts(ctx context.Context, deliveryID string) ([]intake.DeliveryAttempt, error) {
	if !store.IsUUID(deliveryID) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT attempt, at, status_code, error, duration_us FROM delivery_attempts
		WHERE delivery_id = $1 ORDER BY attempt`, deliveryID)
	if err != nil {
		return nil, unavailable(fmt.Errorf("delivery attempts: %w", err))
	}
	defer rows.Close()
	var out []intake.DeliveryAttempt
	for rows.Next() {
		var (
			a  intake.DeliveryAttempt
			us int64
		)
		if err := rows.Scan(&a.Attempt, &a.At, &a.StatusCode, &a.Error, &us); err != nil {
			return nil, fmt.Errorf("scan attempt: %w", err)
		}
		a.At, a.DurationMS = a.At.UTC(), float64(us)/1000
		out = append(out, a)
	}
	return out, rows.Err()
}

// RetryDelivery puts a dead delivery back in the queue with a fresh job.
func (s *Store) RetryDelivery(ctx context.Context, id string) (*intake.Delivery, error) {
	if !store.IsUUID(id) {
		return nil, fmt.Errorf("delivery %q: %w", id, intake.ErrNotFound)
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var out intake.Delivery
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		d, err := scanDelivery(tx.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = $1 FOR UPDATE`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("delivery %q: %w", id, intake.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("lock delivery: %w", err)
		}
		if d.State != intake.DeliveryDead {
			return fmt.Errorf("%w: delivery %s is %s, only dead deliveries can be retried", intake.ErrInvalid, id, d.State)
		}
		var priority string
		if err := tx.QueryRow(ctx, `SELECT priority FROM cases WHERE id = $1`, d.CaseID).Scan(&priority); err != nil {
			return fmt.Errorf("read case priority: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET state = 'queued', updated_at = $2 WHERE id = $1`, id, now); err != nil {
			return fmt.Errorf("requeue delivery: %w", err)
		}
		job := jobs.ForwardCase{DeliveryID: d.ID, CaseID: d.CaseID, Event: d.Event, Target: d.Target}
		if _, err := s.river.InsertManyFastTx(ctx, tx, []river.InsertManyParams{{Args: job, InsertOpts: &river.InsertOpts{
			Queue: jobs.ForwardQueue(d.Target), Priority: store.JobPriority(&intake.Case{Priority: intake.Priority(priority)}),
		}}}); err != nil {
			return fmt.Errorf("enqueue retry: %w", err)
		}
		d.State, d.UpdatedAt = intake.DeliveryQueued, now
		out = d
		return nil
	})
	if err != nil {
		return nil, unavailable(err)
	}
	return &out, nil
}

// OldestQueued returns the oldest queued delivery to target.
func (s *Store) OldestQueued(ctx context.Context, target string) (*intake.Delivery, error) {
	d, err := scanDelivery(s.pool.QueryRow(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE state = 'queued' AND target = $1 ORDER BY created_at, id LIMIT 1`, target))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("oldest queued delivery: %w", err))
	}
	return &d, nil
}

// PauseForwarding pauses the job queue of target for every process.
func (s *Store) PauseForwarding(ctx context.Context, target string) error {
	if err := s.river.QueuePause(ctx, jobs.ForwardQueue(target), nil); err != nil && !isQueueMissing(err) {
		return fmt.Errorf("pause forwarding to %s: %w", target, err)
	}
	return nil
}

// ResumeForwarding resumes the job queue of target.
func (s *Store) ResumeForwarding(ctx context.Context, target string) error {
	if err := s.river.QueueResume(ctx, jobs.ForwardQueue(target), nil); err != nil && !isQueueMissing(err) {
		return fmt.Errorf("resume forwarding to %s: %w", target, err)
	}
	return nil
}

// ForwardingPaused reports whether the job queue of target is paused.
func (s *Store) ForwardingPaused(ctx context.Context, target string) (bool, error) {
	q, err := s.river.QueueGet(ctx, jobs.ForwardQueue(target))
	if isQueueMissing(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("forwarding queue of %s: %w", target, err)
	}
	return q.PausedAt != nil, nil
}

func isQueueMissing(err error) bool { return errors.Is(err, river.ErrNotFound) }

// DeliveryWithCase reads a delivery and its case in one round trip.
func (s *Store) DeliveryWithCase(ctx context.Context, id string) (*intake.Delivery, *intake.Case, error) {
	if !store.IsUUID(id) {
		return nil, nil, fmt.Errorf("delivery %q: %w", id, intake.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+caseColumns+`, d.id::text, d.case_id::text, d.event, d.target, d.state, d.attempts, d.last_error, d.created_at, d.updated_at
		FROM deliveries d JOIN cases c ON c.id = d.case_id WHERE d.id = $1`, id)
	if err != nil {
		return nil, nil, unavailable(fmt.Errorf("get delivery: %w", err))
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, nil, unavailable(fmt.Errorf("get delivery: %w", err))
		}
		return nil, nil, fmt.Errorf("delivery %q: %w", id, intake.ErrNotFound)
	}
	var (
		cid, status, ref, hash, chID, extID string
		record, initial, history            []byte
		merged                              int
		d                                   intake.Delivery
	)
	if err := rows.Scan(&cid, &record, &status, &ref, &hash, &chID, &extID, &merged, &initial, &history,
		&d.ID, &d.CaseID, &d.Event, &d.Target, &d.State, &d.Attempts, &d.LastError, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return nil, nil, fmt.Errorf("scan delivery: %w", err)
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	c, err := decodeCaseRow(record, status, ref, merged, initial, history)
	if err != nil {
		return nil, nil, err
	}
	return &d, c, nil
}

// RequeueStranded gives a fresh job to every queued delivery whose job will not run.
func (s *Store) RequeueStranded(ctx context.Context, stuckFor time.Duration) ([]intake.Delivery, error) {
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var out []intake.Delivery
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		stuck, err := store.FindStuckJobs(ctx, s.river, tx, now.Add(-stuckFor))
		if err != nil {
			return err
		}
		live := make([]string, len(store.LiveJobStates))
		for i, st := range store.LiveJobStates {
			live[i] = string(st)
		}
		// One pass over the jobs that will still run (River's state index), not a probe of the
		// whole job table per delivery.
		rows, err := tx.Query(ctx, `SELECT d.id::text, d.case_id::text, d.event, d.target, d.state, d.attempts, d.last_error,
				d.created_at, d.updated_at, COALESCE(c.priority, 'normal')
			FROM deliveries d LEFT JOIN cases c ON c.id = d.case_id
			WHERE d.state = 'queued' AND NOT EXISTS (
				SELECT 1 FROM river_job j
				WHERE j.state::text = ANY($1::text[]) AND j.kind = $2 AND j.args->>'delivery_id' = d.id::text
				  AND NOT (j.id = ANY($3::bigint[])))
			ORDER BY d.created_at, d.id
			FOR UPDATE OF d`, live, jobs.ForwardCase{}.Kind(), stuck.IDs)
		if err != nil {
			return fmt.Errorf("find stranded deliveries: %w", err)
		}
		var (
			params   []river.InsertManyParams
			ids      []string
			toCancel []int64
		)
		for rows.Next() {
			var (
				d        intake.Delivery
				priority string
			)
			if err := rows.Scan(&d.ID, &d.CaseID, &d.Event, &d.Target, &d.State, &d.Attempts, &d.LastError, &d.CreatedAt, &d.UpdatedAt, &priority); err != nil {
				rows.Close()
				return fmt.Errorf("scan stranded delivery: %w", err)
			}
			d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), now
			out, ids = append(out, d), append(ids, d.ID)
			toCancel = append(toCancel, stuck.ByDelivery[d.ID]...)
			params = append(params, river.InsertManyParams{
				Args:       jobs.ForwardCase{DeliveryID: d.ID, CaseID: d.CaseID, Event: d.Event, Target: d.Target},
				InsertOpts: &river.InsertOpts{Queue: jobs.ForwardQueue(d.Target), Priority: store.JobPriority(&intake.Case{Priority: intake.Priority(priority)})},
			})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("find stranded deliveries: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE deliveries SET updated_at = $2 WHERE id = ANY($1::uuid[])`, ids, now); err != nil {
			return fmt.Errorf("touch stranded deliveries: %w", err)
		}
		if _, err := s.river.InsertManyTx(ctx, tx, params); err != nil {
			return fmt.Errorf("enqueue stranded deliveries: %w", err)
		}
		for _, id := range toCancel {
			if _, err := s.river.JobCancelTx(ctx, tx, id); err != nil && !errors.Is(err, river.ErrNotFound) {
				return fmt.Errorf("cancel stuck job %d: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, unavailable(err)
	}
	return out, nil
}

// DeliveryBacklog counts queued and dead deliveries per target, with the oldest queued one's
// creation time. Both states are read from the (state, created_at) index.
func (s *Store) DeliveryBacklog(ctx context.Context) ([]intake.DeliveryBacklog, error) {
	rows, err := s.pool.Query(ctx, `SELECT target, state, count(*), min(created_at) FROM deliveries
		WHERE state IN ('queued', 'dead') GROUP BY target, state ORDER BY target`)
	if err != nil {
		return nil, unavailable(fmt.Errorf("delivery backlog: %w", err))
	}
	defer rows.Close()
	var out []intake.DeliveryBacklog
	for rows.Next() {
		var (
			target, state string
			n             int
			oldest        time.Time
		)
		if err := rows.Scan(&target, &state, &n, &oldest); err != nil {
			return nil, fmt.Errorf("delivery backlog: %w", err)
		}
		out = store.AddBacklog(out, target, intake.DeliveryState(state), n, oldest)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("delivery backlog: %w", err))
	}
	return out, nil
}
