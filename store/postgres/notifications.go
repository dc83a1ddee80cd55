package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/store"
)

const notificationColumns = `id::text, case_id::text, event, channel, channel_id, address, body, state, reason, provider_ref, attempts, created_at, updated_at`

func scanNotification(row pgx.Row) (intake.Notification, error) {
	var n intake.Notification
	err := row.Scan(&n.ID, &n.CaseID, &n.Event, &n.Channel, &n.ChannelID, &n.Address, &n.Text, &n.State, &n.Reason, &n.ProviderRef, &n.Attempts, &n.CreatedAt, &n.UpdatedAt)
	n.CreatedAt, n.UpdatedAt = n.CreatedAt.UTC(), n.UpdatedAt.UTC()
	return n, err
}

// QueueNotification stores a notification with its sending job.
func (s *Store) QueueNotification(ctx context.Context, n intake.Notification) (intake.Notification, error) {
	var out []intake.Notification
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		out, err = s.insertNotifications(ctx, tx, []intake.Notification{n})
		return err
	})
	if err != nil {
		return intake.Notification{}, unavailable(err)
	}
	return out[0], nil
}

// insertNotifications stores notifications with their sending jobs in tx, and returns them as
// stored (ids, state and times set).
func (s *Store) insertNotifications(ctx context.Context, tx pgx.Tx, notes []intake.Notification) ([]intake.Notification, error) {
	if len(notes) == 0 {
		return nil, nil
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	out := make([]intake.Notification, len(notes))
	params := make([]river.InsertManyParams, len(notes))
	for i, n := range notes {
		if n.ID == "" {
			n.ID = store.NewID()
		}
		n.State, n.CreatedAt, n.UpdatedAt = intake.NotificationQueued, now, now
		if _, err := tx.Exec(ctx, `INSERT INTO notifications (id, case_id, event, channel, channel_id, address, body, state, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)`, n.ID, n.CaseID, n.Event, string(n.Channel), n.ChannelID, n.Address, n.Text, string(n.State), now); err != nil {
			return nil, fmt.Errorf("insert notification: %w", err)
		}
		params[i] = river.InsertManyParams{Args: jobs.NotifyCitizen{NotificationID: n.ID, CaseID: n.CaseID},
			InsertOpts: &river.InsertOpts{Queue: jobs.QueueNotify, MaxAttempts: 10}}
		out[i] = n
	}
	if _, err := s.river.InsertManyTx(ctx, tx, params); err != nil {
		return nil, fmt.Errorf("enqueue notification: %w", err)
	}
	return out, nil
}

// GetNotification reads one notification.
func (s *Store) GetNotification(ctx context.Context, id string) (*intake.Notification, error) {
	if !store.IsUUID(id) {
		return nil, fmt.Errorf("notification %q: %w", id, intake.ErrNotFound)
	}
	n, err := scanNotification(s.pool.QueryRow(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("notification %q: %w", id, intake.ErrNotFound)
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("get notification: %w", err))
	}
	return &n, nil
}

// UpdateNotification records a sending outcome.
func (s *Store) UpdateNotification(ctx context.Context, n intake.Notification) error {
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	_, err := s.pool.Exec(ctx, `UPDATE notifications SET channel = $2, channel_id = $3, address = $4, state = $5, reason = $6,
		provider_ref = $7, attempts = $8, updated_at = $9 WHERE id = $1`,
		n.ID, string(n.Channel), n.ChannelID, n.Address, string(n.State), n.Reason, n.ProviderRef, n.Attempts, now)
	if err != nil {
		return unavailable(fmt.Errorf("update notification: %w", err))
	}
	return nil
}

// UpdateNotificationByRef records a platform's delivery report. A report never moves a
// notification back (a late "sent" after "delivered" is ignored).
func (s *Store) UpdateNotificationByRef(ctx context.Context, channelID, ref string, state intake.NotificationState, reason string, at time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE notifications SET state = $3, reason = CASE WHEN $4 = '' THEN reason ELSE $4 END, updated_at = $5
		WHERE channel_id = $1 AND provider_ref = $2 AND provider_ref <> ''
		  AND NOT (state = 'delivered' AND $3 = 'sent')`, channelID, ref, string(state), reason, at.UTC())
	if err != nil {
		return false, unavailable(fmt.Errorf("update notification by reference: %w", err))
	}
	if tag.RowsAffected() > 0 {
		return true, nil
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM notifications WHERE channel_id = $1 AND provider_ref = $2 AND provider_ref <> '')`,
		channelID, ref).Scan(&exists); err != nil {
		return false, unavailable(fmt.Errorf("find notification: %w", err))
	}
	return exists, nil
}

// CaseNotifications lists a case's notifications.
func (s *Store) CaseNotifications(ctx context.Context, caseID string) ([]intake.Notification, error) {
	if !store.IsUUID(caseID) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE case_id = $1 ORDER BY created_at, id`, caseID)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list notifications: %w", err))
	}
	defer rows.Close()
	var out []intake.Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, fmt.Errorf("scan notification: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// LoadToken returns a stored platform token.
func (s *Store) LoadToken(ctx context.Context, key string) (string, time.Time, error) {
	var (
		value string
		exp   time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT value, expires_at FROM platform_tokens WHERE key = $1`, key).Scan(&value, &exp)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, unavailable(fmt.Errorf("load token: %w", err))
	}
	return value, exp.UTC(), nil
}

// SaveToken stores a platform token.
func (s *Store) SaveToken(ctx context.Context, key, value string, expiresAt time.Time) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO platform_tokens (key, value, expires_at) VALUES ($1, $2, $3)
		ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`, key, value, expiresAt.UTC())
	if err != nil {
		return unavailable(fmt.Errorf("save token: %w", err))
	}
	return nil
}

// InvalidateToken forgets a token the platform rejected, unless another replica replaced it.
func (s *Store) InvalidateToken(ctx context.Context, key, stale string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM platform_tokens WHERE key = $1 AND value = $2`, key, stale); err != nil {
		return unavailable(fmt.Errorf("invalidate token: %w", err))
	}
	return nil
}

// WithTokenLock holds a transaction-scoped advisory lock for key while fn runs, so that one
// replica at a time refreshes a token.
func (s *Store) WithTokenLock(ctx context.Context, key string, fn func(ctx context.Context) error) error {
	h := fnv.New64a()
	_, _ = h.Write([]byte("platform-token:" + key))
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(h.Sum64())); err != nil {
			return unavailable(fmt.Errorf("token lock: %w", err))
		}
		return fn(ctx)
	})
}
