package sqlite

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	intake "github.com/hotline12345/intake-gateway"
)

// searchLimit turns a requested limit into the one used.
func searchLimit(n int) int {
	if n <= 0 || n > intake.SearchLimit {
		return intake.SearchLimit
	}
	return n
}

// SearchRequests returns the cases matching q, newest first.
func (s *Store) SearchRequests(ctx context.Context, q intake.RequestSearch) ([]*intake.Case, error) {
	var (
		where []string
		args  []any
	)
	if q.Channel != "" {
		where, args = append(where, "c.channel = ?"), append(args, string(q.Channel))
	}
	if q.ChannelID != "" {
		where, args = append(where, "c.channel_id = ?"), append(args, q.ChannelID)
	}
	if q.CaseNos != nil {
		if len(q.CaseNos) == 0 {
			return nil, nil
		}
		where = append(where, "c.case_no IN ("+placeholders(len(q.CaseNos))+")")
		for _, n := range q.CaseNos {
			args = append(args, n)
		}
	}
	if q.Category != "" {
		where, args = append(where, "json_extract(c.record, '$.classification.category') = ?"), append(args, q.Category)
	}
	if len(q.Statuses) > 0 {
		where = append(where, "c.status IN ("+placeholders(len(q.Statuses))+")")
		for _, st := range q.Statuses {
			args = append(args, string(st))
		}
	}
	if !q.ReceivedFrom.IsZero() {
		where, args = append(where, "c.received_at >= ?"), append(args, micros(q.ReceivedFrom))
	}
	if !q.ReceivedTo.IsZero() {
		where, args = append(where, "c.received_at < ?"), append(args, micros(q.ReceivedTo))
	}
	query := `SELECT ` + caseColumns + ` FROM cases c`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY c.received_at DESC, c.id DESC LIMIT ?"
	args = append(args, searchLimit(q.Limit))
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("search cases: %w", err))
	}
	stored, err := s.scanCases(ctx, s.db, rows)
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]*intake.Case, len(stored))
	for i, sc := range stored {
		out[i] = sc.Case
	}
	return out, nil
}

// StatusUpdates returns the status history entries recorded in a period, oldest first.
func (s *Store) StatusUpdates(ctx context.Context, q intake.UpdateQuery) ([]intake.StatusUpdate, error) {
	var (
		where []string
		args  []any
	)
	if q.Channel != "" {
		where, args = append(where, "c.channel = ?"), append(args, string(q.Channel))
	}
	if q.ChannelID != "" {
		where, args = append(where, "c.channel_id = ?"), append(args, q.ChannelID)
	}
	if !q.RecordedFrom.IsZero() {
		where, args = append(where, "h.recorded_at >= ?"), append(args, micros(q.RecordedFrom))
	}
	if !q.RecordedTo.IsZero() {
		where, args = append(where, "h.recorded_at < ?"), append(args, micros(q.RecordedTo))
	}
	if len(q.ExcludeEvents) > 0 {
		where = append(where, "h.event NOT IN ("+placeholders(len(q.ExcludeEvents))+")")
		for _, e := range q.ExcludeEvents {
			args = append(args, e)
		}
	}
	query := `SELECT h.id, c.id, c.case_no, h.status, h.event, h.at, h.source, COALESCE(h.event_id, ''),
		h.department, h.message, h.recorded_at
		FROM case_status_history h JOIN cases c ON c.id = h.case_id`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY h.recorded_at, h.id LIMIT ?"
	args = append(args, searchLimit(q.Limit))
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("status updates: %w", err))
	}
	defer rows.Close()
	var out []intake.StatusUpdate
	for rows.Next() {
		var (
			id, at, recorded int64
			u                intake.StatusUpdate
			h                = &u.Change
		)
		if err := rows.Scan(&id, &u.CaseID, &u.CaseNo, &h.Status, &h.Event, &at, &h.Source, &h.EventID,
			&h.Department, &h.Message, &recorded); err != nil {
			return nil, fmt.Errorf("scan status update: %w", err)
		}
		u.ID = strconv.FormatInt(id, 10)
		h.At, u.RecordedAt = fromMicros(at), fromMicros(recorded)
		out = append(out, u)
	}
	return out, unavailable(rows.Err())
}
