package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store"
)

// claimNonceSQL inserts a request's signature, or finds it, in one statement and one round
// trip. An entry that has expired is taken over; one that has not keeps the body hash it was
// first claimed with, which RETURNING gives back (ON CONFLICT DO UPDATE also sees, and waits
// for, a copy claimed by a transaction that commits while this one runs, so racing copies of a
// retry all see the first body hash).
//
// The transaction commits without waiting for its WAL to reach the disk (synchronous_commit
// off, for this transaction only): one fsync per webhook request would cost more than the
// whole rest of the request, whereas group commit spreads the case's own fsync over many. What
// a crash can lose is the last fraction of a second of claims, and losing a claim only reopens,
// for the rest of its timestamp window, the replay of that one captured request — a request the
// same crash left unanswered anyway, and whose case (if any was made) still dedups by its
// message id.
const claimNonceSQL = `
	WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
	INSERT INTO request_nonces AS n (channel_id, signature, nonce, body_hash, expires_at)
	SELECT $1, $2, $3, $4, $5 FROM async
	ON CONFLICT (channel_id, signature) DO UPDATE SET
		nonce      = CASE WHEN n.expires_at < $6 THEN EXCLUDED.nonce ELSE n.nonce END,
		body_hash  = CASE WHEN n.expires_at < $6 THEN EXCLUDED.body_hash ELSE n.body_hash END,
		expires_at = CASE WHEN n.expires_at < $6 THEN EXCLUDED.expires_at ELSE n.expires_at END
	RETURNING n.body_hash`

// ClaimNonce records a request's signature bound to its body hash (see intake.Nonces).
func (s *Store) ClaimNonce(ctx context.Context, c intake.NonceClaim) (bool, error) {
	var stored string
	err := s.pool.QueryRow(ctx, claimNonceSQL, c.ChannelID, c.Signature, c.Nonce, c.BodyHash, c.ExpiresAt.UTC(), c.At.UTC()).Scan(&stored)
	if err != nil {
		return false, unavailable(fmt.Errorf("claim request nonce: %w", err))
	}
	return stored == c.BodyHash, nil
}

// LookupLocked reports whether any of keys is locked out at at.
func (s *Store) LookupLocked(ctx context.Context, keys []string, at time.Time) (bool, error) {
	if len(keys) == 0 {
		return false, nil
	}
	var locked bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM lookup_failures WHERE key = ANY($1) AND locked_until > $2)`,
		keys, at.UTC()).Scan(&locked)
	if err != nil {
		return false, unavailable(fmt.Errorf("read look-up lockouts: %w", err))
	}
	return locked, nil
}

// RecordLookupFailure counts a failed look-up against each key (see intake.LookupLimits). Each
// key's row is locked while its count moves, so failures racing in from several replicas are
// all counted and exactly one of them locks the key.
func (s *Store) RecordLookupFailure(ctx context.Context, keys []string, at time.Time, p intake.LookupPolicy) ([]string, error) {
	if err := store.CheckPolicy(p); err != nil {
		return nil, err
	}
	at = at.UTC().Truncate(time.Microsecond)
	// Rows are locked in key order, so two failures naming the same keys cannot deadlock.
	keys = slices.Sorted(slices.Values(slices.Compact(slices.Sorted(slices.Values(keys)))))
	var locked []string
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		locked = locked[:0]
		for _, key := range keys {
			// The row is made first (empty), so that the read below can lock it even for a key's
			// first failure: racing first failures then queue on the row like all others.
			if _, err := tx.Exec(ctx, `INSERT INTO lookup_failures (key, failures, window_start, expires_at) VALUES ($1, 0, $2, $3)
				ON CONFLICT (key) DO NOTHING`, key, at, at.Add(p.Window)); err != nil {
				return fmt.Errorf("count look-up failure: %w", err)
			}
			var (
				cur         store.LookupState
				lockedUntil *time.Time
			)
			if err := tx.QueryRow(ctx, `SELECT failures, window_start, locked_until FROM lookup_failures WHERE key = $1 FOR UPDATE`, key).
				Scan(&cur.Failures, &cur.WindowStart, &lockedUntil); err != nil {
				return fmt.Errorf("read look-up failures: %w", err)
			}
			if lockedUntil != nil {
				cur.LockedUntil = *lockedUntil
			}
			next, lockedNow := store.NextLookupState(cur, at, p)
			var until *time.Time
			if !next.LockedUntil.IsZero() {
				until = &next.LockedUntil
			}
			if _, err := tx.Exec(ctx, `UPDATE lookup_failures SET failures = $2, window_start = $3, locked_until = $4, expires_at = $5 WHERE key = $1`,
				key, next.Failures, next.WindowStart, until, next.Expires(p)); err != nil {
				return fmt.Errorf("count look-up failure: %w", err)
			}
			if lockedNow {
				locked = append(locked, key)
			}
		}
		return nil
	})
	if err != nil {
		return nil, unavailable(err)
	}
	return locked, nil
}

// PruneExpired deletes request nonces and look-up counters that expired before before.
func (s *Store) PruneExpired(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	for _, sql := range []string{`DELETE FROM request_nonces WHERE expires_at < $1`, `DELETE FROM lookup_failures WHERE expires_at < $1`} {
		tag, err := s.pool.Exec(ctx, sql, before.UTC())
		if err != nil {
			return n, unavailable(fmt.Errorf("prune expired rows: %w", err))
		}
		n += tag.RowsAffected()
	}
	return n, nil
}
