package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store"
)

// ClearRawPayloads deletes the raw payloads (as they arrived: the case's own, a case stored
// before payloads moved into the case row, and those of its later messages) of up to limit cases
// received before before, continuing where the last call stopped. It returns how many cases it
// went through; fewer than limit means it has caught up.
func (s *Store) ClearRawPayloads(ctx context.Context, before time.Time, limit int) (int, error) {
	return s.retentionBatch(ctx, store.SweepRawPayload, before, limit, false, func(tx pgx.Tx, ids []string, _ []string) error {
		return clearRaw(ctx, tx, ids)
	})
}

// PseudonymizeCases replaces the citizen's name, phone numbers, openid and Weibo uid by p's
// pseudonyms in the record and the citizen columns of up to limit cases received before before,
// and the addresses of their notifications; it also deletes their raw payloads (which carry the
// same values) and remembered locations older than before. Each case is done once.
func (s *Store) PseudonymizeCases(ctx context.Context, before time.Time, limit int, p store.Pseudonym) (int, error) {
	return s.retentionBatch(ctx, store.SweepPersonalData, before, limit, true, func(tx pgx.Tx, ids []string, records []string) error {
		b := &pgx.Batch{}
		for i, id := range ids {
			rec, cols, err := store.PseudonymizeRecord([]byte(records[i]), p)
			if err != nil {
				return fmt.Errorf("case %s: %w", id, err)
			}
			b.Queue(`UPDATE cases SET record = $2::json, citizen_phone = $3, citizen_openid = $4, citizen_weibo_uid = $5 WHERE id = $1`,
				id, string(rec), cols.Phone, cols.OpenID, cols.WeiboUID)
		}
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("pseudonymize cases: %w", err)
		}
		rows, err := tx.Query(ctx, `SELECT id::text, channel, address FROM notifications WHERE case_id = ANY($1::uuid[]) FOR UPDATE`, ids)
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
		if len(notes) > 0 {
			nb := &pgx.Batch{}
			for _, n := range notes {
				nb.Queue(`UPDATE notifications SET address = $2 WHERE id = $1`, n.id, p(store.AddressKind(intake.ChannelKind(n.channel)), n.address))
			}
			if err := tx.SendBatch(ctx, nb).Close(); err != nil {
				return fmt.Errorf("pseudonymize notification addresses: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM citizen_locations WHERE at < $1`, before); err != nil {
			return fmt.Errorf("delete old locations: %w", err)
		}
		return clearRaw(ctx, tx, ids)
	})
}

func clearRaw(ctx context.Context, tx pgx.Tx, ids []string) error {
	if _, err := tx.Exec(ctx, `UPDATE cases SET raw_body = NULL, raw_content_type = NULL WHERE id = ANY($1::uuid[]) AND raw_body IS NOT NULL`, ids); err != nil {
		return fmt.Errorf("clear raw payloads: %w", err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM case_payloads WHERE case_id = ANY($1::uuid[])`, ids); err != nil {
		return fmt.Errorf("clear raw payloads: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE case_messages SET body = ''::bytea WHERE case_id = ANY($1::uuid[]) AND octet_length(body) > 0`, ids); err != nil {
		return fmt.Errorf("clear message payloads: %w", err)
	}
	return nil
}

// retentionBatch takes the next cases of a sweep in one transaction: it locks the sweep's
// progress row (so two replicas never take the same cases), reads up to limit cases past it and
// received before before (with their records, locked, when withRecords), applies apply, and moves
// the progress row past them.
func (s *Store) retentionBatch(ctx context.Context, sweep string, before time.Time, limit int, withRecords bool,
	apply func(tx pgx.Tx, ids, records []string) error) (int, error) {
	if limit <= 0 {
		limit = store.RetentionBatch
	}
	var n int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO retention_progress (sweep, received_at, case_id)
			VALUES ($1, 'epoch', '00000000-0000-0000-0000-000000000000') ON CONFLICT (sweep) DO NOTHING`, sweep); err != nil {
			return fmt.Errorf("retention progress: %w", err)
		}
		var cur store.RetentionCursor
		if err := tx.QueryRow(ctx, `SELECT received_at, case_id::text FROM retention_progress WHERE sweep = $1 FOR UPDATE`, sweep).
			Scan(&cur.ReceivedAt, &cur.ID); err != nil {
			return fmt.Errorf("retention progress: %w", err)
		}
		q := `SELECT id::text, received_at, ''::text FROM cases
			WHERE (received_at, id) > ($1, $2::uuid) AND received_at < $3 ORDER BY received_at, id LIMIT $4`
		if withRecords {
			q = `SELECT id::text, received_at, record::text FROM cases
				WHERE (received_at, id) > ($1, $2::uuid) AND received_at < $3 ORDER BY received_at, id LIMIT $4 FOR UPDATE`
		}
		rows, err := tx.Query(ctx, q, cur.ReceivedAt, cur.ID, before, limit)
		if err != nil {
			return fmt.Errorf("cases due for retention: %w", err)
		}
		var ids, records []string
		var last store.RetentionCursor
		for rows.Next() {
			var id, rec string
			if err := rows.Scan(&id, &last.ReceivedAt, &rec); err != nil {
				rows.Close()
				return fmt.Errorf("cases due for retention: %w", err)
			}
			last.ID = id
			ids, records = append(ids, id), append(records, rec)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("cases due for retention: %w", err)
		}
		n = len(ids)
		if n == 0 {
			return nil
		}
		if err := apply(tx, ids, records); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE retention_progress SET received_at = $2, case_id = $3::uuid WHERE sweep = $1`,
			sweep, last.ReceivedAt, last.ID); err != nil {
			return fmt.Errorf("retention progress: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, unavailable(fmt.Errorf("retention %s: %w", sweep, err))
	}
	return n, nil
}
