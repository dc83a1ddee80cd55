package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/groupcommit"
)

// claimNoncesSQL inserts the signatures of concurrent requests, or finds them, in one statement
// and one round trip (see ClaimNonce). An entry that has expired is taken over; one that has not
// keeps the body hash it was first claimed with, which RETURNING gives back (ON CONFLICT DO
// UPDATE also sees, and waits for, a row claimed by a transaction that commits while this one
// runs, so racing copies of a retry all see the first body hash).
//
// The transaction commits without waiting for its WAL to reach the disk (synchronous_commit
// off, for this transaction only): an fsync per webhook request would cost more than the rest of
// the request, whereas group commit spreads the case's own fsync over many. What a crash can lose
// is the last fraction of a second of claims, and losing a claim only reopens, for the rest of
// its timestamp window, the replay of that one captured request — whose own case, if it made
// one, still dedups by its message id.
const claimNoncesSQL = `
	WITH async AS (SELECT set_config('synchronous_commit', 'off', true))
	INSERT INTO request_nonces AS n (channel_id, signature, nonce, body_hash, expires_at)
	SELECT u.channel_id, u.signature, u.nonce, u.body_hash, u.expires_at
	FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
		AS u(channel_id, signature, nonce, body_hash, expires_at), async
	ON CONFLICT (channel_id, signature) DO UPDATE SET
		nonce      = CASE WHEN n.expires_at < $6 THEN EXCLUDED.nonce ELSE n.nonce END,
		body_hash  = CASE WHEN n.expires_at < $6 THEN EXCLUDED.body_hash ELSE n.body_hash END,
		expires_at = CASE WHEN n.expires_at < $6 THEN EXCLUDED.expires_at ELSE n.expires_at END
	RETURNING n.channel_id, n.signature, n.body_hash`

// ClaimNonce records a request's signature bound to its body hash (see intake.Nonces). Claims of
// concurrent requests share one statement and one transaction (see claimNonces): at a few
// thousand requests a second, a transaction each was the larger part of the claims' cost.
func (s *Store) ClaimNonce(ctx context.Context, c intake.NonceClaim) (bool, error) {
	ok, err := s.nonces.Do(ctx, c)
	if errors.Is(err, groupcommit.ErrClosed) {
		return false, fmt.Errorf("%w: store closed", intake.ErrUnavailable)
	}
	return ok, err
}

// claimNonces claims a batch of signatures at once. A signature that comes twice in one batch is
// sent once, with its first body; the later copies are answered from what the row then holds.
// Rows go in key order, so that two batches sharing signatures lock them in the same order and
// cannot deadlock.
func (s *Store) claimNonces(ctx context.Context, claims []intake.NonceClaim) ([]groupcommit.Outcome[bool], error) {
	type key struct{ channel, sig string }
	var (
		first = make(map[key]intake.NonceClaim, len(claims))
		keys  = make([]key, 0, len(claims))
		at    time.Time
	)
	for _, c := range claims {
		if c.At.After(at) {
			at = c.At
		}
		k := key{c.ChannelID, c.Signature}
		if _, ok := first[k]; !ok {
			first[k] = c
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(strings.Compare(a.channel, b.channel), strings.Compare(a.sig, b.sig))
	})
	channelIDs, sigs, nonces, hashes := make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys)), make([]string, len(keys))
	expires := make([]time.Time, len(keys))
	for i, k := range keys {
		c := first[k]
		channelIDs[i], sigs[i], nonces[i], hashes[i], expires[i] = c.ChannelID, c.Signature, c.Nonce, c.BodyHash, c.ExpiresAt.UTC()
	}
	rows, err := s.pool.Query(ctx, claimNoncesSQL, channelIDs, sigs, nonces, hashes, expires, at.UTC())
	if err != nil {
		return nil, unavailable(fmt.Errorf("claim request nonces: %w", err))
	}
	stored := make(map[key]string, len(sigs))
	for rows.Next() {
		var k key
		var hash string
		if err := rows.Scan(&k.channel, &k.sig, &hash); err != nil {
			rows.Close()
			return nil, unavailable(fmt.Errorf("claim request nonces: %w", err))
		}
		stored[k] = hash
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("claim request nonces: %w", err))
	}
	outs := make([]groupcommit.Outcome[bool], len(claims))
	for i, c := range claims {
		hash, ok := stored[key{c.ChannelID, c.Signature}]
		if !ok {
			return nil, fmt.Errorf("claim request nonces: no row returned for a claim")
		}
		outs[i].Value = hash == c.BodyHash
	}
	return outs, nil
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
	keys = slices.Compact(slices.Sorted(slices.Values(keys)))
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

// PruneExpired deletes request nonces and look-up counters that expired before before, and the
// case-number sequences of days a week or more before it (one is created per day and nothing
// numbers a case on a past day).
func (s *Store) PruneExpired(ctx context.Context, before time.Time) (int64, error) {
	n, err := s.dropOldCaseNoSequences(ctx, s.opts.CaseNoCutoff(before))
	if err != nil {
		return 0, err
	}
	for _, sql := range []string{`DELETE FROM request_nonces WHERE expires_at < $1`, `DELETE FROM lookup_failures WHERE expires_at < $1`} {
		tag, err := s.pool.Exec(ctx, sql, before.UTC())
		if err != nil {
			return n, unavailable(fmt.Errorf("prune expired rows: %w", err))
		}
		n += tag.RowsAffected()
	}
	return n, nil
}

// dropOldCaseNoSequences drops case_no_seq_<day> for days before cutoff (YYYYMMDD).
func (s *Store) dropOldCaseNoSequences(ctx context.Context, cutoff string) (int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'S' AND n.nspname = current_schema() AND c.relname ~ '^case_no_seq_[0-9]{8}$'
		  AND substr(c.relname, 13) < $1`, cutoff)
	if err != nil {
		return 0, unavailable(fmt.Errorf("list case-number sequences: %w", err))
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, unavailable(fmt.Errorf("list case-number sequences: %w", err))
	}
	for _, name := range names {
		if _, err := s.pool.Exec(ctx, "DROP SEQUENCE IF EXISTS "+pgx.Identifier{name}.Sanitize()); err != nil {
			return 0, unavailable(fmt.Errorf("drop %s: %w", name, err))
		}
	}
	return int64(len(names)), nil
}
