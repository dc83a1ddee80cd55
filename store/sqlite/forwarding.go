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
	"github.com/hotline12345/intake-gateway/store/groupcommit"
)

const deliveryColumns = `id, case_id, event, target, state, attempts, last_error, created_at, updated_at`

type scanner interface{ Scan(dest ...any) error }

func scanDelivery(row scanner) (intake.Delivery, error) {
	var (
		d                intake.Delivery
		created, updated int64
	)
	err := row.Scan(&d.ID, &d.CaseID, &d.Event, &d.Target, &d.State, &d.Attempts, &d.LastError, &created, &updated)
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	return d, err
}

// GetDelivery reads one delivery.
func (s *Store) GetDelivery(ctx context.Context, id string) (*intake.Delivery, error) {
	d, err := scanDelivery(s.db.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("delivery %q: %w", id, intake.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get delivery: %w", err)
	}
	return &d, nil
}

// EarlierPending finds an earlier, undelivered delivery of the same case and target.
func (s *Store) EarlierPending(ctx context.Context, d intake.Delivery) (*intake.Delivery, error) {
	e, err := scanDelivery(s.db.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE case_id = ? AND target = ? AND state <> 'delivered' AND (created_at, id) < (?, ?)
		ORDER BY created_at, id LIMIT 1`, d.CaseID, d.Target, micros(d.CreatedAt), d.ID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("earlier deliveries: %w", err)
	}
	return &e, nil
}

// RecordOutcome stores an attempt; concurrent outcomes share one transaction.
func (s *Store) RecordOutcome(ctx context.Context, o intake.DeliveryOutcome) error {
	_, err := s.outcomes.Do(ctx, o)
	if errors.Is(err, groupcommit.ErrClosed) {
		return fmt.Errorf("%w: store closed", intake.ErrUnavailable)
	}
	return err
}

func (s *Store) commitOutcomes(ctx context.Context, os []intake.DeliveryOutcome) ([]groupcommit.Outcome[struct{}], error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, o := range os {
		at := micros(o.At)
		if o.Attempt > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO delivery_attempts (delivery_id, attempt, at, status_code, error, duration_us)
				VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, o.DeliveryID, o.Attempt, at, o.StatusCode, o.Error, o.Duration.Microseconds()); err != nil {
				return nil, fmt.Errorf("record attempt: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = ?, attempts = max(attempts, ?), last_error = ?, updated_at = ?
			WHERE id = ? AND state <> 'delivered'`, string(o.State), o.Attempt, o.Error, at, o.DeliveryID); err != nil {
			return nil, fmt.Errorf("update delivery: %w", err)
		}
		if o.State == intake.DeliveryDelivered && intake.IsFirstEvent(o.Event) {
			res, err := tx.ExecContext(ctx, `UPDATE cases SET status = 'forwarded', case_ref = COALESCE(NULLIF(?, ''), case_ref), updated_at = ?
				WHERE id = ? AND status = 'received'`, o.CaseRef, at, o.CaseID)
			if err != nil {
				return nil, fmt.Errorf("mark case forwarded: %w", err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				if _, err := tx.ExecContext(ctx, `INSERT INTO case_status_history (case_id, status, event, at, source, recorded_at)
					VALUES (?, 'forwarded', 'forwarded', ?, 'gateway', ?)`, o.CaseID, at, at); err != nil {
					return nil, fmt.Errorf("record forwarded status: %w", err)
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit outcomes: %w", err)
	}
	return make([]groupcommit.Outcome[struct{}], len(os)), nil
}

// ListDeliveries pages through deliveries, most recently updated first.
func (s *Store) ListDeliveries(ctx context.Context, f intake.DeliveryFilter) (intake.DeliveryPage, error) {
	limit := store.ListLimit(f.Limit)
	var (
		where []string
		args  []any
	)
	if f.State != "" {
		where, args = append(where, "state = ?"), append(args, string(f.State))
	}
	if f.Target != "" {
		where, args = append(where, "target = ?"), append(args, f.Target)
	}
	if f.Cursor != "" {
		cur, err := store.DecodeCursor(f.Cursor)
		if err != nil {
			return intake.DeliveryPage{}, err
		}
		where, args = append(where, "(updated_at, id) < (?, ?)"), append(args, micros(cur.ReceivedAt), cur.ID)
	}
	q := `SELECT ` + deliveryColumns + ` FROM deliveries`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY updated_at DESC, id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return intake.DeliveryPage{}, fmt.Errorf("list deliveries: %w", err)
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
	rows, err := s.db.QueryContext(ctx, `SELECT attempt, at, status_code, error, duration_us FROM delivery_attempts
		WHERE delivery_id = ? ORDER BY attempt`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("delivery attempts: %w", err)
	}
	defer rows.Close()
	var out []intake.DeliveryAttempt
	for rows.Next() {
		var (
			a      intake.DeliveryAttempt
			at, us int64
		)
		if err := rows.Scan(&a.Attempt, &at, &a.StatusCode, &a.Error, &us); err != nil {
			return nil, fmt.Errorf("scan attempt: %w", err)
		}
		a.At, a.DurationMS = fromMicros(at), float64(us)/1000
		out = append(out, a)
	}
	return out, rows.Err()
}

// RetryDelivery puts a dead delivery back in the queue with a fresh job.
func (s *Store) RetryDelivery(ctx context.Context, id string) (*intake.Delivery, error) {
	now := s.clock.Now().UTC()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	d, err := scanDelivery(tx.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("delivery %q: %w", id, intake.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read delivery: %w", err)
	}
	if d.State != intake.DeliveryDead {
		return nil, fmt.Errorf("%w: delivery %s is %s, only dead deliveries can be retried", intake.ErrInvalid, id, d.State)
	}
	var priority string
	if err := tx.QueryRowContext(ctx, `SELECT priority FROM cases WHERE id = ?`, d.CaseID).Scan(&priority); err != nil {
		return nil, fmt.Errorf("read case priority: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET state = 'queued', updated_at = ? WHERE id = ?`, micros(now), id); err != nil {
		return nil, fmt.Errorf("requeue delivery: %w", err)
	}
	job := jobs.ForwardCase{DeliveryID: d.ID, CaseID: d.CaseID, Event: d.Event, Target: d.Target}
	if _, err := s.river.InsertManyFastTx(ctx, tx, []river.InsertManyParams{{Args: job, InsertOpts: &river.InsertOpts{
		Queue: jobs.ForwardQueue(d.Target), Priority: store.JobPriority(&intake.Case{Priority: intake.Priority(priority)}),
	}}}); err != nil {
		return nil, fmt.Errorf("enqueue retry: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit retry: %w", err)
	}
	d.State, d.UpdatedAt = intake.DeliveryQueued, fromMicros(micros(now))
	return &d, nil
}

// OldestQueued returns the oldest queued delivery to target.
func (s *Store) OldestQueued(ctx context.Context, target string) (*intake.Delivery, error) {
	d, err := scanDelivery(s.db.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries
		WHERE state = 'queued' AND target = ? ORDER BY created_at, id LIMIT 1`, target))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("oldest queued delivery: %w", err)
	}
	return &d, nil
}

// PauseForwarding pauses the job queue of target.
func (s *Store) PauseForwarding(ctx context.Context, target string) error {
	if err := s.river.QueuePause(ctx, jobs.ForwardQueue(target), nil); err != nil && !errors.Is(err, river.ErrNotFound) {
		return fmt.Errorf("pause forwarding to %s: %w", target, err)
	}
	return nil
}

// ResumeForwarding resumes the job queue of target.
func (s *Store) ResumeForwarding(ctx context.Context, target string) error {
	if err := s.river.QueueResume(ctx, jobs.ForwardQueue(target), nil); err != nil && !errors.Is(err, river.ErrNotFound) {
		return fmt.Errorf("resume forwarding to %s: %w", target, err)
	}
	return nil
}

// ForwardingPaused reports whether the job queue of target is paused.
func (s *Store) ForwardingPaused(ctx context.Context, target string) (bool, error) {
	q, err := s.river.QueueGet(ctx, jobs.ForwardQueue(target))
	if errors.Is(err, river.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("forwarding queue of %s: %w", target, err)
	}
	return q.PausedAt != nil, nil
}

// DeliveryWithCase reads a delivery and its case (two local reads; SQLite has no round trips
// to save).
func (s *Store) DeliveryWithCase(ctx context.Context, id string) (*intake.Delivery, *intake.Case, error) {
	d, err := s.GetDelivery(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	c, err := s.GetCase(ctx, d.CaseID)
	if err != nil {
		return nil, nil, err
	}
	return d, c, nil
}

// RequeueStranded gives a fresh job to every queued delivery whose job will not run.
func (s *Store) RequeueStranded(ctx context.Context, stuckFor time.Duration) ([]intake.Delivery, error) {
	out, err := s.requeueStranded(ctx, stuckFor)
	return out, unavailable(err)
}

func (s *Store) requeueStranded(ctx context.Context, stuckFor time.Duration) ([]intake.Delivery, error) {
	now := s.clock.Now().UTC()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	stuck, err := store.FindStuckJobs(ctx, s.river, tx, now.Add(-stuckFor))
	if err != nil {
		return nil, err
	}
	live := make([]string, len(store.LiveJobStates))
	for i, st := range store.LiveJobStates {
		live[i] = string(st)
	}
	liveJSON, _ := json.Marshal(live)
	stuckJSON, _ := json.Marshal(append([]int64{}, stuck.IDs...))
	rows, err := tx.QueryContext(ctx, `SELECT d.id, d.case_id, d.event, d.target, d.state, d.attempts, d.last_error, d.created_at, d.updated_at,
			COALESCE(c.priority, 'normal')
		FROM deliveries d LEFT JOIN cases c ON c.id = d.case_id
		WHERE d.state = 'queued' AND NOT EXISTS (
			SELECT 1 FROM river_job j
			WHERE j.state IN (SELECT value FROM json_each(?1)) AND j.kind = ?2 AND json_extract(j.args, '$.delivery_id') = d.id
			  AND j.id NOT IN (SELECT value FROM json_each(?3)))
		ORDER BY d.created_at, d.id`, string(liveJSON), jobs.ForwardCase{}.Kind(), string(stuckJSON))
	if err != nil {
		return nil, fmt.Errorf("find stranded deliveries: %w", err)
	}
	var (
		out      []intake.Delivery
		params   []river.InsertManyParams
		toCancel []int64
	)
	for rows.Next() {
		var (
			d                intake.Delivery
			created, updated int64
			priority         string
		)
		if err := rows.Scan(&d.ID, &d.CaseID, &d.Event, &d.Target, &d.State, &d.Attempts, &d.LastError, &created, &updated, &priority); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan stranded delivery: %w", err)
		}
		d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(micros(now))
		out = append(out, d)
		toCancel = append(toCancel, stuck.ByDelivery[d.ID]...)
		params = append(params, river.InsertManyParams{
			Args:       jobs.ForwardCase{DeliveryID: d.ID, CaseID: d.CaseID, Event: d.Event, Target: d.Target},
			InsertOpts: &river.InsertOpts{Queue: jobs.ForwardQueue(d.Target), Priority: store.JobPriority(&intake.Case{Priority: intake.Priority(priority)})},
		})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("find stranded deliveries: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	for _, d := range out {
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET updated_at = ? WHERE id = ?`, micros(now), d.ID); err != nil {
			return nil, fmt.Errorf("touch stranded delivery: %w", err)
		}
	}
	if _, err := s.river.InsertManyTx(ctx, tx, params); err != nil {
		return nil, fmt.Errorf("enqueue stranded deliveries: %w", err)
	}
	for _, id := range toCancel {
		if _, err := s.river.JobCancelTx(ctx, tx, id); err != nil && !errors.Is(err, river.ErrNotFound) {
			return nil, fmt.Errorf("cancel stuck job %d: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit requeue: %w", err)
	}
	return out, nil
}

// DeliveryBacklog counts queued and dead deliveries per target, with the oldest queued one's
// creation time.
func (s *Store) DeliveryBacklog(ctx context.Context) ([]intake.DeliveryBacklog, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT target, state, count(*), min(created_at) FROM deliveries
		WHERE state IN ('queued', 'dead') GROUP BY target, state ORDER BY target`)
	if err != nil {
		return nil, fmt.Errorf("delivery backlog: %w", err)
	}
	defer rows.Close()
	var out []intake.DeliveryBacklog
	for rows.Next() {
		var (
			target, state string
			n             int
			oldest        int64
		)
		if err := rows.Scan(&target, &state, &n, &oldest); err != nil {
			return nil, fmt.Errorf("delivery backlog: %w", err)
		}
		out = store.AddBacklog(out, target, intake.DeliveryState(state), n, fromMicros(oldest))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("delivery backlog: %w", err)
	}
	return out, nil
}
