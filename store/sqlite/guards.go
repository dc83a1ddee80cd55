package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/groupcommit"
)

// ClaimNonce records a request's signature bound to its body hash (see intake.Nonces). Claims
// of concurrent requests share one transaction (see claimNonces): SQLite has one writer, and a
// write transaction per webhook request queued every request behind the lock.
func (s *Store) ClaimNonce(ctx context.Context, c intake.NonceClaim) (bool, error) {
	ok, err := s.nonces.Do(ctx, c)
	if errors.Is(err, groupcommit.ErrClosed) {
		return false, fmt.Errorf("%w: store closed", intake.ErrUnavailable)
	}
	return ok, unavailable(err)
}

// claimNonces claims a batch of signatures in one transaction, on the handle that commits without
// syncing (nonceDSN). An entry that has expired is taken over; one that has not keeps the body
// hash it was first claimed with, which RETURNING gives back.
func (s *Store) claimNonces(ctx context.Context, claims []intake.NonceClaim) ([]groupcommit.Outcome[bool], error) {
	tx, err := s.nonceDB.BeginTx(ctx, nil)
	if err != nil {
		return nil, unavailable(fmt.Errorf("begin: %w", err))
	}
	defer func() { _ = tx.Rollback() }()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO request_nonces AS n (channel_id, signature, nonce, body_hash, expires_at)
		VALUES (?1, ?2, ?3, ?4, ?5)
		ON CONFLICT (channel_id, signature) DO UPDATE SET
			nonce      = CASE WHEN n.expires_at < ?6 THEN excluded.nonce ELSE n.nonce END,
			body_hash  = CASE WHEN n.expires_at < ?6 THEN excluded.body_hash ELSE n.body_hash END,
			expires_at = CASE WHEN n.expires_at < ?6 THEN excluded.expires_at ELSE n.expires_at END
		RETURNING body_hash`)
	if err != nil {
		return nil, unavailable(fmt.Errorf("claim request nonces: %w", err))
	}
	defer stmt.Close()
	outs := make([]groupcommit.Outcome[bool], len(claims))
	for i, c := range claims {
		var stored string
		if err := stmt.QueryRowContext(ctx, c.ChannelID, c.Signature, c.Nonce, c.BodyHash, micros(c.ExpiresAt), micros(c.At)).Scan(&stored); err != nil {
			return nil, unavailable(fmt.Errorf("claim request nonce: %w", err))
		}
		outs[i].Value = stored == c.BodyHash
	}
	if err := tx.Commit(); err != nil {
		return nil, unavailable(fmt.Errorf("commit request nonces: %w", err))
	}
	return outs, nil
}

// LookupLocked reports whether any of keys is locked out at at.
func (s *Store) LookupLocked(ctx context.Context, keys []string, at time.Time) (bool, error) {
	if len(keys) == 0 {
		return false, nil
	}
	args := []any{micros(at)}
	for _, k := range keys {
		args = append(args, k)
	}
	var locked bool
	err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM lookup_failures WHERE locked_until > ? AND key IN (?`+
		strings.Repeat(", ?", len(keys)-1)+`))`, args...).Scan(&locked)
	if err != nil {
		return false, unavailable(fmt.Errorf("read look-up lockouts: %w", err))
	}
	return locked, nil
}

// RecordLookupFailure counts a failed look-up against each key (see intake.LookupLimits). The
// transaction takes SQLite's write lock up front, so counts move one failure at a time.
func (s *Store) RecordLookupFailure(ctx context.Context, keys []string, at time.Time, p intake.LookupPolicy) ([]string, error) {
	if err := store.CheckPolicy(p); err != nil {
		return nil, err
	}
	at = at.UTC().Truncate(time.Microsecond)
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, unavailable(fmt.Errorf("begin: %w", err))
	}
	defer func() { _ = tx.Rollback() }()
	var locked []string
	for _, key := range slices.Compact(slices.Sorted(slices.Values(keys))) {
		var (
			cur         store.LookupState
			start       int64
			lockedUntil sql.NullInt64
		)
		err := tx.QueryRowContext(ctx, `SELECT failures, window_start, locked_until FROM lookup_failures WHERE key = ?`, key).
			Scan(&cur.Failures, &start, &lockedUntil)
		switch {
		case err == nil:
			cur.WindowStart = fromMicros(start)
			if lockedUntil.Valid {
				cur.LockedUntil = fromMicros(lockedUntil.Int64)
			}
		case !errors.Is(err, sql.ErrNoRows):
			return nil, unavailable(fmt.Errorf("read look-up failures: %w", err))
		}
		next, lockedNow := store.NextLookupState(cur, at, p)
		var until any
		if !next.LockedUntil.IsZero() {
			until = micros(next.LockedUntil)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO lookup_failures (key, failures, window_start, locked_until, expires_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, window_start = excluded.window_start,
				locked_until = excluded.locked_until, expires_at = excluded.expires_at`,
			key, next.Failures, micros(next.WindowStart), until, micros(next.Expires(p))); err != nil {
			return nil, unavailable(fmt.Errorf("count look-up failure: %w", err))
		}
		if lockedNow {
			locked = append(locked, key)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, unavailable(fmt.Errorf("commit look-up failure: %w", err))
	}
	return locked, nil
}

// PruneExpired deletes request nonces and look-up counters that expired before before.
func (s *Store) PruneExpired(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	// Case-number counters of days a week or more back: nothing numbers a case on a past day.
	res, err := s.db.ExecContext(ctx, `DELETE FROM case_no_counters WHERE day < ?`, s.opts.CaseNoCutoff(before))
	if err != nil {
		return n, unavailable(fmt.Errorf("prune case-number counters: %w", err))
	}
	n, _ = res.RowsAffected()
	for _, q := range []string{`DELETE FROM request_nonces WHERE expires_at < ?`, `DELETE FROM lookup_failures WHERE expires_at < ?`} {
		res, err := s.db.ExecContext(ctx, q, micros(before))
		if err != nil {
			return n, unavailable(fmt.Errorf("prune expired rows: %w", err))
		}
		k, _ := res.RowsAffected()
		n += k
	}
	return n, nil
}
