package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/store"
)

const notificationColumns = `id, case_id, event, channel, channel_id, address, body, state, reason, provider_ref, attempts, created_at, updated_at`

func scanNotification(row scanner) (intake.Notification, error) {
	var (
		n                intake.Notification
		created, updated int64
	)
	err := row.Scan(&n.ID, &n.CaseID, &n.Event, &n.Channel, &n.ChannelID, &n.Address, &n.Text, &n.State, &n.Reason, &n.ProviderRef, &n.Attempts, &created, &updated)
	n.CreatedAt, n.UpdatedAt = fromMicros(created), fromMicros(updated)
	return n, err
}

// QueueNotification stores a notification with its sending job.
func (s *Store) QueueNotification(ctx context.Context, n intake.Notification) (intake.Notification, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return intake.Notification{}, unavailable(fmt.Errorf("begin: %w", err))
	}
	defer func() { _ = tx.Rollback() }()
	out, err := s.insertNotifications(ctx, tx, []intake.Notification{n})
	if err != nil {
		return intake.Notification{}, unavailable(err)
	}
	if err := tx.Commit(); err != nil {
		return intake.Notification{}, unavailable(fmt.Errorf("commit notification: %w", err))
	}
	return out[0], nil
}

// insertNotifications stores notifications with their sending jobs in tx, and returns them as
// stored (ids, state and times set).
func (s *Store) insertNotifications(ctx context.Context, tx *sql.Tx, notes []intake.Notification) ([]intake.Notification, error) {
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
		if _, err := tx.ExecContext(ctx, `INSERT INTO notifications (id, case_id, event, channel, channel_id, address, body, state, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, n.ID, n.CaseID, n.Event, string(n.Channel), n.ChannelID, n.Address, n.Text, string(n.State), micros(now), micros(now)); err != nil {
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
	n, err := scanNotification(s.db.QueryRowContext(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("notification %q: %w", id, intake.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get notification: %w", err)
	}
	return &n, nil
}

// UpdateNotification records a sending outcome.
func (s *Store) UpdateNotification(ctx context.Context, n intake.Notification) error {
	now := s.clock.Now().UTC()
	_, err := s.db.ExecContext(ctx, `UPDATE notifications SET channel = ?, channel_id = ?, address = ?, state = ?, reason = ?,
		provider_ref = ?, attempts = ?, updated_at = ? WHERE id = ?`,
		string(n.Channel), n.ChannelID, n.Address, string(n.State), n.Reason, n.ProviderRef, n.Attempts, micros(now), n.ID)
	if err != nil {
		return fmt.Errorf("update notification: %w", err)
	}
	return nil
}

// UpdateNotificationByRef records a platform's delivery report; it never moves a delivered
// notification back to sent.
func (s *Store) UpdateNotificationByRef(ctx context.Context, channelID, ref string, state intake.NotificationState, reason string, at time.Time) (bool, error) {
	if ref == "" {
		return false, nil
	}
	res, err := s.db.ExecContext(ctx, `UPDATE notifications SET state = ?3, reason = CASE WHEN ?4 = '' THEN reason ELSE ?4 END, updated_at = ?5
		WHERE channel_id = ?1 AND provider_ref = ?2 AND NOT (state = 'delivered' AND ?3 = 'sent')`,
		channelID, ref, string(state), reason, micros(at))
	if err != nil {
		return false, fmt.Errorf("update notification by reference: %w", err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return true, nil
	}
	var exists bool
	err = s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM notifications WHERE channel_id = ? AND provider_ref = ?)`, channelID, ref).Scan(&exists)
	if err != nil {
		return false, fmt.Errorf("find notification: %w", err)
	}
	return exists, nil
}

// CaseNotifications lists a case's notifications.
func (s *Store) CaseNotifications(ctx context.Context, caseID string) ([]intake.Notification, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+notificationColumns+` FROM notifications WHERE case_id = ? ORDER BY created_at, id`, caseID)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
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
		exp   int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT value, expires_at FROM platform_tokens WHERE key = ?`, key).Scan(&value, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	if err != nil {
		return "", time.Time{}, fmt.Errorf("load token: %w", err)
	}
	return value, fromMicros(exp), nil
}

// SaveToken stores a platform token.
func (s *Store) SaveToken(ctx context.Context, key, value string, expiresAt time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO platform_tokens (key, value, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at`, key, value, micros(expiresAt))
	if err != nil {
		return fmt.Errorf("save token: %w", err)
	}
	return nil
}

// InvalidateToken forgets a token the platform rejected, unless it was replaced meanwhile.
func (s *Store) InvalidateToken(ctx context.Context, key, stale string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM platform_tokens WHERE key = ? AND value = ?`, key, stale); err != nil {
		return fmt.Errorf("invalidate token: %w", err)
	}
	return nil
}

// WithTokenLock runs fn while holding this store's lock for key.
func (s *Store) WithTokenLock(ctx context.Context, key string, fn func(ctx context.Context) error) error {
	l := s.tokenLock(key)
	select {
	case l <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l }()
	return fn(ctx)
}

func (s *Store) tokenLock(key string) chan struct{} {
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	if s.tokenLocks == nil {
		s.tokenLocks = map[string]chan struct{}{}
	}
	l, ok := s.tokenLocks[key]
	if !ok {
		l = make(chan struct{}, 1)
		s.tokenLocks[key] = l
	}
	return l
}
