package sqlite

import (
	"context"
	"database/sql"
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

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// microsOrNil is micros of *t, or NULL.
func microsOrNil(t *time.Time) any {
	if t == nil {
		return nil
	}
	return micros(*t)
}

// CreateCase stores a case with its payload, first status entry, delivery record and forwarding
// job in one transaction shared with the other cases submitted at the same moment.
func (s *Store) CreateCase(ctx context.Context, nc intake.NewCase) (intake.CreateResult, error) {
	if nc.Case == nil {
		return intake.CreateResult{}, fmt.Errorf("%w: nil case", intake.ErrInvalid)
	}
	defer s.activity.Begin()()
	res, err := s.batcher.Do(ctx, nc)
	if errors.Is(err, groupcommit.ErrClosed) {
		return res, fmt.Errorf("%w: store closed", intake.ErrUnavailable)
	}
	return res, unavailable(err)
}

func (s *Store) commitBatch(ctx context.Context, reqs []intake.NewCase) ([]groupcommit.Outcome[intake.CreateResult], error) {
	outs, err := store.CommitBatch(ctx, (*batchDriver)(s), reqs)
	return outs, unavailable(err)
}

// batchDriver gives the batch steps the names store.BatchDriver asks for without putting them on
// the Store's public surface.
type batchDriver Store

// Fresh filters out the keys already stored; numbering happens inside InsertFresh's transaction.
func (d *batchDriver) Fresh(ctx context.Context, reqs []intake.NewCase, leaders []int) ([]int, error) {
	s := (*Store)(d)
	var (
		conds []string
		args  []any
	)
	for _, i := range leaders {
		conds = append(conds, "(channel_id = ? AND external_id = ?)")
		args = append(args, reqs[i].Case.ChannelID, reqs[i].Case.ExternalID)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT channel_id, external_id FROM cases WHERE `+strings.Join(conds, " OR "), args...)
	if err != nil {
		return nil, fmt.Errorf("check stored keys: %w", err)
	}
	defer rows.Close()
	stored := map[store.Key]bool{}
	for rows.Next() {
		var k store.Key
		if err := rows.Scan(&k.ChannelID, &k.ExternalID); err != nil {
			return nil, fmt.Errorf("scan stored key: %w", err)
		}
		stored[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check stored keys: %w", err)
	}
	fresh := make([]int, 0, len(leaders))
	for _, i := range leaders {
		if !stored[store.KeyOf(reqs[i])] {
			fresh = append(fresh, i)
		}
	}
	return fresh, nil
}

func (d *batchDriver) FindByKeys(ctx context.Context, keys []store.Key) (map[store.Key]store.Stored, error) {
	s := (*Store)(d)
	return s.findByKeys(ctx, s.db, keys)
}

// InsertFresh numbers and inserts the fresh cases in one IMMEDIATE transaction. SQLite has a
// single writer, so nobody can insert the same key between FindByKeys and here except another
// process on the same file; ON CONFLICT DO NOTHING covers that too.
func (d *batchDriver) InsertFresh(ctx context.Context, reqs []intake.NewCase, idx []int) (map[store.Key]intake.Delivery, error) {
	s := (*Store)(d)
	now := s.clock.Now().UTC()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	if err := s.assignCaseNumbers(ctx, tx, reqs, idx); err != nil {
		return nil, err
	}
	insCase, err := tx.PrepareContext(ctx, `INSERT INTO cases (id, case_no, channel, channel_id, external_id, status,
		priority, received_at, payload_hash, citizen_phone, citizen_openid, citizen_weibo_uid, record, updated_at,
		raw_content_type, raw_body, initial_history, category, request_type, emergency, needs_review, due_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (channel_id, external_id) DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("prepare case insert: %w", err)
	}
	defer insCase.Close()
	insDelivery, err := tx.PrepareContext(ctx, `INSERT INTO deliveries (id, case_id, event, target, state, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("prepare delivery insert: %w", err)
	}
	defer insDelivery.Close()

	inserted := map[store.Key]intake.Delivery{}
	var jobParams []river.InsertManyParams
	for _, i := range idx {
		c := reqs[i].Case
		rec, err := store.EncodeRecord(c)
		if err != nil {
			return nil, err
		}
		initial, err := store.EncodeInitialHistory(c)
		if err != nil {
			return nil, err
		}
		ct := reqs[i].Raw.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		body := reqs[i].Raw.Body
		if body == nil {
			body = []byte{}
		}
		k := store.KeysOf(c)
		res, err := insCase.ExecContext(ctx, c.ID, c.CaseNo, string(c.Channel), c.ChannelID, c.ExternalID, string(c.Status),
			string(c.Priority), micros(c.ReceivedAt), reqs[i].PayloadHash, nullable(c.Citizen.Phone),
			nullable(c.Citizen.WeChatOpenID), nullable(c.Citizen.WeiboUID), string(rec), micros(now),
			ct, body, string(initial), k.Category, k.RequestType, k.Emergency, k.NeedsReview, microsOrNil(k.DueAt))
		if err != nil {
			return nil, fmt.Errorf("insert case: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			continue
		}
		target := reqs[i].ForwardTo
		if target == "" {
			target = s.opts.DefaultTarget
		}
		dl, job := store.NewDelivery(c, reqs[i].Event, target, now)
		inserted[store.KeyOf(reqs[i])] = dl
		if dup := c.Related.DuplicateOf; dup != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET merged_count = merged_count + 1 WHERE id = ?`, dup); err != nil {
				return nil, fmt.Errorf("count repeated request: %w", err)
			}
		}
		if _, err := insDelivery.ExecContext(ctx, dl.ID, c.ID, dl.Event, dl.Target, micros(now), micros(now)); err != nil {
			return nil, fmt.Errorf("insert delivery: %w", err)
		}
		jobParams = append(jobParams, river.InsertManyParams{Args: job, InsertOpts: &river.InsertOpts{
			Queue: jobs.ForwardQueue(target), Priority: store.JobPriority(c),
		}})
		jobParams = append(jobParams, store.FetchJobs(c, 0, reqs[i].Fetch)...)
	}
	if len(jobParams) > 0 {
		if _, err := s.river.InsertManyFastTx(ctx, tx, jobParams); err != nil {
			return nil, fmt.Errorf("enqueue forwarding jobs: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("commit cases: %w", err)
	}
	return inserted, nil
}

func (s *Store) assignCaseNumbers(ctx context.Context, tx *sql.Tx, reqs []intake.NewCase, idx []int) error {
	perDay := map[string][]int{}
	var days []string
	for _, i := range idx {
		d := s.opts.Day(reqs[i].Case.ReceivedAt)
		if _, ok := perDay[d]; !ok {
			days = append(days, d)
		}
		perDay[d] = append(perDay[d], i)
	}
	for _, d := range days {
		members := perDay[d]
		var last int64
		err := tx.QueryRowContext(ctx, `INSERT INTO case_no_counters (day, last) VALUES (?, ?)
			ON CONFLICT (day) DO UPDATE SET last = last + excluded.last RETURNING last`, d, len(members)).Scan(&last)
		if err != nil {
			return fmt.Errorf("reserve case numbers for %s: %w", d, err)
		}
		first := last - int64(len(members)) + 1
		for j, i := range members {
			reqs[i].Case.CaseNo = s.opts.CaseNo(d, first+int64(j))
		}
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const caseColumns = `c.id, c.record, c.status, COALESCE(c.case_ref, ''), c.payload_hash, c.merged_count, c.initial_history`

func (s *Store) findByKeys(ctx context.Context, q querier, keys []store.Key) (map[store.Key]store.Stored, error) {
	out := map[store.Key]store.Stored{}
	if len(keys) == 0 {
		return out, nil
	}
	var (
		conds []string
		args  []any
	)
	for _, k := range keys {
		conds = append(conds, "(c.channel_id = ? AND c.external_id = ?)")
		args = append(args, k.ChannelID, k.ExternalID)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+caseColumns+` FROM cases c WHERE `+strings.Join(conds, " OR "), args...)
	if err != nil {
		return nil, fmt.Errorf("find cases by external id: %w", err)
	}
	cases, err := s.scanCases(ctx, q, rows)
	if err != nil {
		return nil, err
	}
	for _, sc := range cases {
		out[store.Key{ChannelID: sc.Case.ChannelID, ExternalID: sc.Case.ExternalID}] = sc
	}
	return out, nil
}

func (s *Store) scanCases(ctx context.Context, q querier, rows *sql.Rows) ([]store.Stored, error) {
	type row struct {
		id, status, ref, hash string
		record, initial       []byte
		merged                int
	}
	var raw []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.record, &r.status, &r.ref, &r.hash, &r.merged, &r.initial); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan case: %w", err)
		}
		raw = append(raw, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read cases: %w", err)
	}
	if len(raw) == 0 {
		return nil, nil
	}
	ids := make([]string, len(raw))
	for i, r := range raw {
		ids[i] = r.id
	}
	history, err := s.histories(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	out := make([]store.Stored, 0, len(raw))
	for _, r := range raw {
		c, err := store.DecodeRecord(r.record, r.status, r.ref, r.merged, r.initial, history[r.id])
		if err != nil {
			return nil, err
		}
		out = append(out, store.Stored{Case: c, PayloadHash: r.hash})
	}
	return out, nil
}

func (s *Store) histories(ctx context.Context, q querier, ids []string) (map[string][]intake.StatusChange, error) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := q.QueryContext(ctx, `SELECT case_id, status, event, at, source, COALESCE(event_id, ''), department, message
		FROM case_status_history WHERE case_id IN (`+placeholders(len(ids))+`) ORDER BY case_id, at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read status history: %w", err)
	}
	defer rows.Close()
	out := map[string][]intake.StatusChange{}
	for rows.Next() {
		var (
			id string
			at int64
			h  intake.StatusChange
		)
		if err := rows.Scan(&id, &h.Status, &h.Event, &at, &h.Source, &h.EventID, &h.Department, &h.Message); err != nil {
			return nil, fmt.Errorf("scan status history: %w", err)
		}
		h.At = fromMicros(at)
		out[id] = append(out[id], h)
	}
	return out, rows.Err()
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// GetCase finds a case by id or case number.
func (s *Store) GetCase(ctx context.Context, ref string) (*intake.Case, error) {
	col := "case_no"
	if store.IsUUID(ref) {
		col = "id"
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.`+col+` = ?`, ref)
	if err != nil {
		return nil, unavailable(fmt.Errorf("get case: %w", err))
	}
	cases, err := s.scanCases(ctx, s.db, rows)
	if err != nil {
		return nil, unavailable(err)
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("case %q: %w", ref, intake.ErrNotFound)
	}
	return cases[0].Case, nil
}

// ListCases pages through cases newest first.
func (s *Store) ListCases(ctx context.Context, f intake.CaseFilter) (intake.CasePage, error) {
	return s.SearchCases(ctx, intake.CaseSearch{CaseFilter: f})
}

// AddStatus appends a status change; a repeated event id changes nothing.
func (s *Store) AddStatus(ctx context.Context, caseID string, ch intake.StatusChange, notes []intake.Notification) (bool, error) {
	applied, err := s.addStatus(ctx, caseID, ch, notes)
	return applied, unavailable(err)
}

func (s *Store) addStatus(ctx context.Context, caseID string, ch intake.StatusChange, notes []intake.Notification) (bool, error) {
	now := s.clock.Now().UTC()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var current string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM cases WHERE id = ?`, caseID).Scan(&current); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, fmt.Errorf("case %q: %w", caseID, intake.ErrNotFound)
		}
		return false, fmt.Errorf("read case: %w", err)
	}
	status, event := store.HistoryEntry(ch, intake.Status(current))
	res, err := tx.ExecContext(ctx, `INSERT INTO case_status_history (case_id, status, event, at, source, event_id, department, message, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		caseID, string(status), event, micros(ch.At), ch.Source, nullable(ch.EventID), ch.Department, ch.Message, micros(now))
	if err != nil {
		return false, fmt.Errorf("insert status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, tx.Commit()
	}
	// The current status is that of the latest event by the event's own time, so a late event
	// does not move the case backwards. The case system's events outrank the gateway's own
	// entries, whatever the two clocks say.
	// A case whose first entry is kept in its row (not in the table) keeps its status until an
	// entry that changes it arrives.
	// first_resolved_at is the earliest resolution or closure of the history, whatever order the
	// events arrive in (the figures' 按时办结 compare it with the deadline).
	if _, err := tx.ExecContext(ctx, `UPDATE cases SET status = COALESCE((
			SELECT status FROM case_status_history WHERE case_id = ?1 AND event NOT IN ('progress', 'feedback')
				ORDER BY event NOT IN ('received', 'forwarded') DESC, at DESC, id DESC LIMIT 1), status),
			first_resolved_at = CASE WHEN ?3 IN ('resolved', 'closed') THEN min(COALESCE(first_resolved_at, ?4), ?4) ELSE first_resolved_at END,
			updated_at = ?2 WHERE id = ?1`, caseID, micros(now), event, micros(ch.At)); err != nil {
		return false, fmt.Errorf("update case status: %w", err)
	}
	if _, err := s.insertNotifications(ctx, tx, notes); err != nil {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("commit status: %w", err)
	}
	return true, nil
}

// Deliveries lists a case's deliveries.
func (s *Store) Deliveries(ctx context.Context, caseID string) ([]intake.Delivery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, case_id, event, target, state, attempts, last_error, created_at, updated_at
		FROM deliveries WHERE case_id = ? ORDER BY created_at, id`, caseID)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list deliveries: %w", err))
	}
	defer rows.Close()
	var out []intake.Delivery
	for rows.Next() {
		var (
			d                intake.Delivery
			created, updated int64
		)
		if err := rows.Scan(&d.ID, &d.CaseID, &d.Event, &d.Target, &d.State, &d.Attempts, &d.LastError, &created, &updated); err != nil {
			return nil, fmt.Errorf("scan delivery: %w", err)
		}
		d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
		out = append(out, d)
	}
	return out, unavailable(rows.Err())
}
