package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store"
)

// ClearRawPayloads deletes the raw payloads (as they arrived: the case's own, a case stored
// before payloads moved into the case row, and those of its later messages) of up to limit cases
// received before before, continuing where the last call stopped. It returns how many cases it
// went through; fewer than limit means it has caught up.
func (s *Store) ClearRawPayloads(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.retentionBatch(ctx, store.SweepRawPayload, before, limit, func(tx *sql.Tx, ids, _ []string) error {
		return clearRaw(ctx, tx, ids)
	})
}

// PseudonymizeCases replaces the citizen's name, phone numbers, openid and Weibo uid by p's
// pseudonyms in the record and the citizen columns of up to limit cases received before before,
// and the addresses of their notifications; it also deletes their raw payloads (which carry the
// same values) and remembered locations older than before. Each case is done once.
func (s *Store) PseudonymizeCases(ctx context.Context, before time.Time, limit int, p store.Pseudonym) (int, error) {
	return s.retentionBatch(ctx, store.SweepPersonalData, before, limit, func(tx *sql.Tx, ids, records []string) error {
		for i, id := range ids {
			rec, cols, err := store.PseudonymizeRecord([]byte(records[i]), p)
			if err != nil {
				return fmt.Errorf("case %s: %w", id, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET record = ?, citizen_phone = ?, citizen_openid = ?, citizen_weibo_uid = ? WHERE id = ?`,
				string(rec), cols.Phone, cols.OpenID, cols.WeiboUID, id); err != nil {
				return fmt.Errorf("pseudonymize case %s: %w", id, err)
			}
		}
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, channel, address FROM notifications WHERE case_id IN (`+placeholders(len(ids))+`)`, args...)
		if err != nil {
			return fmt.Errorf("read notification addresses: %w", err)
		}
		type note struct{ id, channel, address string }
		var notes []note
		for rows.Next() {
			var n note
			if err := rows.Scan(&n.id, &n.channel, &n.address); err != nil {
				rows.Close()
				return fmt.Errorf("read notification addresses: %w", err)
			}
			notes = append(notes, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read notification addresses: %w", err)
		}
		for _, n := range notes {
			if _, err := tx.ExecContext(ctx, `UPDATE notifications SET address = ? WHERE id = ?`,
				p(store.AddressKind(intake.ChannelKind(n.channel)), n.address), n.id); err != nil {
				return fmt.Errorf("pseudonymize notification address: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM citizen_locations WHERE at < ?`, micros(before)); err != nil {
			return fmt.Errorf("delete old locations: %w", err)
		}
		return clearRaw(ctx, tx, ids)
	})
}

func clearRaw(ctx context.Context, tx *sql.Tx, ids []string) error {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	in := `(` + placeholders(len(ids)) + `)`
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET raw_body = NULL, raw_content_type = NULL WHERE raw_body IS NOT NULL AND id IN `+in, args...); err != nil {
		return fmt.Errorf("clear raw payloads: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM case_payloads WHERE case_id IN `+in, args...); err != nil {
		return fmt.Errorf("clear raw payloads: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE case_messages SET body = x'' WHERE length(body) > 0 AND case_id IN `+in, args...); err != nil {
		return fmt.Errorf("clear message payloads: %w", err)
	}
	return nil
}

// retentionBatch takes the next cases of a sweep in one transaction (IMMEDIATE: it holds the
// write lock from the start, so its reads and writes see one state): it reads the sweep's
// progress, up to limit cases past it received before before, with their records, applies
// apply, and moves the progress past them.
func (s *Store) retentionBatch(ctx context.Context, sweep string, before time.Time, limit int,
	apply func(tx *sql.Tx, ids, records []string) error) (int, error) {
	if limit <= 0 {
		limit = store.RetentionBatch
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("retention %s: %w", sweep, err)
	}
	defer func() { _ = tx.Rollback() }()
	var (
		curAt int64
		curID string
	)
	err = tx.QueryRowContext(ctx, `SELECT received_at, case_id FROM retention_progress WHERE sweep = ?`, sweep).Scan(&curAt, &curID)
	if err == sql.ErrNoRows {
		curAt, curID, err = 0, "", nil
	}
	if err != nil {
		return 0, fmt.Errorf("retention %s: progress: %w", sweep, err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, received_at, record FROM cases
		WHERE (received_at, id) > (?, ?) AND received_at < ? ORDER BY received_at, id LIMIT ?`, curAt, curID, micros(before), limit)
	if err != nil {
		return 0, fmt.Errorf("retention %s: cases due: %w", sweep, err)
	}
	var ids, records []string
	var lastAt int64
	for rows.Next() {
		var id, rec string
		if err := rows.Scan(&id, &lastAt, &rec); err != nil {
			rows.Close()
			return 0, fmt.Errorf("retention %s: cases due: %w", sweep, err)
		}
		ids, records = append(ids, id), append(records, rec)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("retention %s: cases due: %w", sweep, err)
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if err := apply(tx, ids, records); err != nil {
		return 0, fmt.Errorf("retention %s: %w", sweep, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO retention_progress (sweep, received_at, case_id) VALUES (?, ?, ?)
		ON CONFLICT (sweep) DO UPDATE SET received_at = excluded.received_at, case_id = excluded.case_id`,
		sweep, lastAt, ids[len(ids)-1]); err != nil {
		return 0, fmt.Errorf("retention %s: progress: %w", sweep, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("retention %s: commit: %w", sweep, err)
	}
	return len(ids), nil
}
