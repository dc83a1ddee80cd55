package postgres

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
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Channel != "" {
		where = append(where, "c.channel = "+arg(string(q.Channel)))
	}
	if q.ChannelID != "" {
		where = append(where, "c.channel_id = "+arg(q.ChannelID))
	}
	if q.CaseNos != nil {
		where = append(where, "c.case_no = ANY("+arg(q.CaseNos)+"::text[])")
	}
	if q.Category != "" {
		where = append(where, "c.record->'classification'->>'category' = "+arg(q.Category))
	}
	if len(q.Statuses) > 0 {
		st := make([]string, len(q.Statuses))
		for i, v := range q.Statuses {
			st[i] = string(v)
		}
		where = append(where, "c.status = ANY("+arg(st)+"::text[])")
	}
	if !q.ReceivedFrom.IsZero() {
		where = append(where, "c.received_at >= "+arg(q.ReceivedFrom.UTC()))
	}
	if !q.ReceivedTo.IsZero() {
		where = append(where, "c.received_at < "+arg(q.ReceivedTo.UTC()))
	}
	query := `SELECT ` + caseColumns + ` FROM cases c`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY c.received_at DESC, c.id DESC LIMIT " + arg(searchLimit(q.Limit))
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("search cases: %w", err))
	}
	stored, err := scanCases(rows)
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
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Channel != "" {
		where = append(where, "c.channel = "+arg(string(q.Channel)))
	}
	if q.ChannelID != "" {
		where = append(where, "c.channel_id = "+arg(q.ChannelID))
	}
	if !q.RecordedFrom.IsZero() {
		where = append(where, "h.recorded_at >= "+arg(q.RecordedFrom.UTC()))
	}
	if !q.RecordedTo.IsZero() {
		where = append(where, "h.recorded_at < "+arg(q.RecordedTo.UTC()))
	}
	if len(q.ExcludeEvents) > 0 {
		where = append(where, "h.event <> ALL("+arg(q.ExcludeEvents)+"::text[])")
	}
	query := `SELECT h.id, c.id::text, c.case_no, h.status, h.event, h.at, h.source, COALESCE(h.event_id, ''),
		h.department, h.message, h.recorded_at
		FROM case_status_history h JOIN cases c ON c.id = h.case_id`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY h.recorded_at, h.id LIMIT " + arg(searchLimit(q.Limit))
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("status updates: %w", err))
	}
	defer rows.Close()
	var out []intake.StatusUpdate
	for rows.Next() {
		var (
			id int64
			u  intake.StatusUpdate
			h  = &u.Change
		)
		if err := rows.Scan(&id, &u.CaseID, &u.CaseNo, &h.Status, &h.Event, &h.At, &h.Source, &h.EventID,
			&h.Department, &h.Message, &u.RecordedAt); err != nil {
			return nil, fmt.Errorf("scan status update: %w", err)
		}
		u.ID = strconv.FormatInt(id, 10)
		h.At, u.RecordedAt = h.At.UTC(), u.RecordedAt.UTC()
		out = append(out, u)
	}
	return out, unavailable(rows.Err())
}
