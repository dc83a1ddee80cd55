package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/groupcommit"
)

// CreateCase stores a case with its payload, first status entry, delivery record and forwarding
// job in one transaction shared with whatever other cases are being submitted at that moment.
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

// commitBatch is the group-commit transaction (see store.CommitBatch).
func (s *Store) commitBatch(ctx context.Context, reqs []intake.NewCase) ([]groupcommit.Outcome[intake.CreateResult], error) {
	outs, err := store.CommitBatch(ctx, (*batchDriver)(s), reqs)
	return outs, unavailable(err)
}

// batchDriver gives the store's batch steps the exported names store.BatchDriver asks for
// without putting them on the Store's public surface.
type batchDriver Store

func (d *batchDriver) FindByKeys(ctx context.Context, keys []store.Key) (map[store.Key]store.Stored, error) {
	s := (*Store)(d)
	return s.findByKeys(ctx, s.pool, keys)
}

// InsertFresh inserts the fresh cases, numbered by Fresh.
func (d *batchDriver) InsertFresh(ctx context.Context, reqs []intake.NewCase, idx []int) (map[store.Key]intake.Delivery, error) {
	return (*Store)(d).insertFresh(ctx, reqs, idx)
}

// Fresh checks which keys are new and reserves case numbers for them, in one round trip: one
// statement finds the new keys, counts them per local day and takes that many numbers from the
// day's sequence. It runs in its own short transaction, committed asynchronously: any case using
// these numbers commits durably later, which flushes this record with it, and numbers no case
// used are harmless (a gap).
func (d *batchDriver) Fresh(ctx context.Context, reqs []intake.NewCase, leaders []int) ([]int, error) {
	s := (*Store)(d)
	n := len(leaders)
	idxs, chIDs, extIDs, days := make([]int32, n), make([]string, n), make([]string, n), make([]string, n)
	for j, i := range leaders {
		c := reqs[i].Case
		idxs[j], chIDs[j], extIDs[j], days[j] = int32(i), c.ChannelID, c.ExternalID, s.opts.Day(c.ReceivedAt)
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue("SET LOCAL synchronous_commit TO OFF")
	b.Queue(`
		WITH k AS (
			SELECT * FROM unnest($1::int[], $2::text[], $3::text[], $4::text[]) AS k(idx, channel_id, external_id, day)
		), fresh AS (
			SELECT k.idx, k.day, row_number() OVER (PARTITION BY k.day ORDER BY k.idx) AS rn
			FROM k
			-- one index probe per key, never a hash join over a scan of all cases (see keyAccessOnly)
			LEFT JOIN LATERAL (
				SELECT true AS found FROM cases c WHERE c.channel_id = k.channel_id AND c.external_id = k.external_id LIMIT 1
			) stored ON true
			WHERE stored.found IS NULL
		), reserved AS (
			SELECT p.day, array_agg(v ORDER BY v) AS numbers
			FROM (SELECT day, count(*)::int AS n FROM fresh GROUP BY day) p,
			     LATERAL case_no_reserve(p.day, p.n) AS v
			GROUP BY p.day
		)
		SELECT f.idx, f.day, r.numbers[f.rn]
		FROM fresh f JOIN reserved r USING (day)`,
		idxs, chIDs, extIDs, days)
	b.Queue("COMMIT")
	br := s.pool.SendBatch(ctx, b)
	defer br.Close()
	for range 2 {
		if _, err := br.Exec(); err != nil {
			return nil, fmt.Errorf("reserve case numbers: %w", err)
		}
	}
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("reserve case numbers: %w", err)
	}
	fresh := make([]int, 0, n)
	for rows.Next() {
		var (
			idx int32
			day string
			seq int64
		)
		if err := rows.Scan(&idx, &day, &seq); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan reserved number: %w", err)
		}
		reqs[idx].Case.CaseNo = s.opts.CaseNo(day, seq)
		fresh = append(fresh, int(idx))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reserve case numbers: %w", err)
	}
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("commit case numbers: %w", err)
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("reserve case numbers: %w", err)
	}
	sort.Ints(fresh)
	return fresh, nil
}

// keyAccessOnly keeps a transaction's statements on their indexes. Until autovacuum first analyzes
// a young table (up to a minute on a new installation, or after a restore) the planner believes
// it holds a few hundred rows, and its cached plan for a batch keyed by unnest(...) becomes a hash
// join over a sequential scan of the whole table, run once per batch while the table grows by
// thousands of rows a second. The statements run under it only ever touch rows by key.
const keyAccessOnly = "SET LOCAL enable_seqscan = off"

// insertFresh writes the fresh cases and everything that belongs with them in one transaction of
// three round trips: BEGIN with one statement inserting the cases (each row with its raw payload
// and first status entry) and their delivery records together (data-modifying CTEs, so the
// deliveries follow exactly the cases that were inserted); the jobs; COMMIT. A key another transaction inserted meanwhile is skipped by ON
// CONFLICT and left for the caller to read back.
func (s *Store) insertFresh(ctx context.Context, reqs []intake.NewCase, idx []int) (map[store.Key]intake.Delivery, error) {
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	n := len(idx)
	var (
		ids, caseNos, channels, channelIDs, externalIDs = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		statuses, priorities, hashes, records           = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		phones, openids, weiboUIDs                      = make([]*string, n), make([]*string, n), make([]*string, n)
		receivedAts                                     = make([]time.Time, n)
		contentTypes                                    = make([]string, n)
		bodies                                          = make([][]byte, n)
		dIDs, dTargets, dEvents                         = make([]string, n), make([]string, n), make([]string, n)
		dupOf                                           = make([]*string, n)
		initials                                        = make([]string, n)
		categories, requestTypes                        = make([]string, n), make([]string, n)
		emergencies, needsReview                        = make([]bool, n), make([]bool, n)
		dueAts                                          = make([]*time.Time, n)
		byID                                            = make(map[string]int, n)
		deliveries                                      = make(map[string]intake.Delivery, n)
		jobsByCase                                      = make(map[string][]river.InsertManyParams, n)
	)
	for j, i := range idx {
		c := reqs[i].Case
		rec, err := store.EncodeRecord(c)
		if err != nil {
			return nil, err
		}
		byID[c.ID] = i
		ids[j], caseNos[j], channels[j], channelIDs[j], externalIDs[j] = c.ID, c.CaseNo, string(c.Channel), c.ChannelID, c.ExternalID
		statuses[j], priorities[j], hashes[j], records[j] = string(c.Status), string(c.Priority), reqs[i].PayloadHash, string(rec)
		phones[j], openids[j], weiboUIDs[j] = nullable(c.Citizen.Phone), nullable(c.Citizen.WeChatOpenID), nullable(c.Citizen.WeiboUID)
		receivedAts[j] = c.ReceivedAt
		k := store.KeysOf(c)
		categories[j], requestTypes[j], emergencies[j], needsReview[j], dueAts[j] = k.Category, k.RequestType, k.Emergency, k.NeedsReview, k.DueAt
		contentTypes[j], bodies[j] = reqs[i].Raw.ContentType, reqs[i].Raw.Body
		if contentTypes[j] == "" {
			contentTypes[j] = "application/octet-stream"
		}
		if bodies[j] == nil {
			bodies[j] = []byte{}
		}
		initial, err := store.EncodeInitialHistory(c)
		if err != nil {
			return nil, err
		}
		initials[j] = string(initial)
		target := reqs[i].ForwardTo
		if target == "" {
			target = s.opts.DefaultTarget
		}
		d, job := store.NewDelivery(c, reqs[i].Event, target, now)
		dIDs[j], dTargets[j], dEvents[j], dupOf[j] = d.ID, d.Target, d.Event, nullable(c.Related.DuplicateOf)
		deliveries[c.ID] = d
		jobsByCase[c.ID] = append([]river.InsertManyParams{{Args: job, InsertOpts: &river.InsertOpts{
			Queue: jobs.ForwardQueue(target), Priority: store.JobPriority(c),
		}}}, store.FetchJobs(c, 0, reqs[i].Fetch)...)
	}

	b := &pgx.Batch{}
	b.Queue(keyAccessOnly)
	b.Queue(`
		WITH u AS (
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[],
			                     $8::timestamptz[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
			                     $14::text[], $15::bytea[], $16::uuid[], $17::text[], $19::text[],
			                     $22::text[], $23::text[], $24::bool[], $25::bool[], $26::timestamptz[])
			    AS u(id, case_no, channel, channel_id, external_id, status, priority, received_at, payload_hash,
			         phone, openid, weibo_uid, record, content_type, body, delivery_id, target, initial_history,
			         category, request_type, emergency, needs_review, due_at)
		), ins AS (
			INSERT INTO cases (id, case_no, channel, channel_id, external_id, status, priority, received_at,
			                   payload_hash, citizen_phone, citizen_openid, citizen_weibo_uid, record, updated_at,
			                   raw_content_type, raw_body, initial_history,
			                   category, request_type, emergency, needs_review, due_at)
			SELECT id, case_no, channel, channel_id, external_id, status, priority, received_at,
			       payload_hash, phone, openid, weibo_uid, record::json, $18, content_type, body, initial_history::json,
			       category, request_type, emergency, needs_review, due_at FROM u
			ON CONFLICT (channel_id, external_id) DO NOTHING
			RETURNING id
		), deliveries AS (
			INSERT INTO deliveries (id, case_id, event, target, state, created_at, updated_at)
			SELECT u.delivery_id, u.id, e.event, u.target, 'queued', $18, $18
			FROM u JOIN ins USING (id) JOIN unnest($16::uuid[], $20::text[]) AS e(delivery_id, event) USING (delivery_id)
		), merged AS (
			UPDATE cases c SET merged_count = c.merged_count + m.n
			FROM (SELECT d.dup_of, count(*) AS n
			      FROM unnest($1::uuid[], $21::uuid[]) AS d(id, dup_of) JOIN ins USING (id)
			      WHERE d.dup_of IS NOT NULL GROUP BY d.dup_of) m
			WHERE c.id = m.dup_of
		)
		SELECT id::text FROM ins`,
		ids, caseNos, channels, channelIDs, externalIDs, statuses, priorities, receivedAts, hashes,
		phones, openids, weiboUIDs, records, contentTypes, bodies, dIDs, dTargets, now,
		initials, dEvents, dupOf, categories, requestTypes, emergencies, needsReview, dueAts)
	tx, br, err := beginPipelined(ctx, s.pool, b)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	defer br.Close()
	if _, err := br.Exec(); err != nil {
		return nil, fmt.Errorf("insert cases: %w", err)
	}
	rows, err := br.Query()
	if err != nil {
		return nil, fmt.Errorf("insert cases: %w", err)
	}
	inserted := map[store.Key]intake.Delivery{}
	var jobParams []river.InsertManyParams
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan inserted case: %w", err)
		}
		inserted[store.KeyOf(reqs[byID[id]])] = deliveries[id]
		jobParams = append(jobParams, jobsByCase[id]...)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insert cases: %w", err)
	}
	if err := br.Close(); err != nil {
		return nil, fmt.Errorf("insert cases: %w", err)
	}
	// InsertManyTx is one cached INSERT statement; InsertManyFastTx's COPY costs about twice as
	// much database time for the handful of jobs a batch carries (measured with
	// pg_stat_statements; docs/performance.md).
	if len(jobParams) > 0 {
		if _, err := s.river.InsertManyTx(ctx, tx, jobParams); err != nil {
			return nil, fmt.Errorf("enqueue forwarding jobs: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, fmt.Errorf("commit cases: %w", err)
	}
	return inserted, nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// caseColumns reads a case with its status history in one row, so that reading a case is one
// round trip.
const caseColumns = `c.id::text, c.record, c.status, COALESCE(c.case_ref, ''), c.payload_hash, c.channel_id, c.external_id, c.merged_count, c.initial_history,
	COALESCE((SELECT json_agg(json_build_object('status', h.status, 'event', h.event, 'at', h.at, 'source', h.source,
		'event_id', COALESCE(h.event_id, ''), 'department', h.department, 'message', h.message) ORDER BY h.at, h.id)
		FROM case_status_history h WHERE h.case_id = c.id), '[]')`

// findByKeysSQL reads the cases of a batch of keys: one index probe per key (LATERAL), whatever
// the planner believes about the table's size (see keyAccessOnly).
const findByKeysSQL = `SELECT ` + caseColumns + ` FROM unnest($1::text[], $2::text[]) AS k(channel_id, external_id),
	LATERAL (SELECT * FROM cases c WHERE c.channel_id = k.channel_id AND c.external_id = k.external_id) c`

// findByKeys loads the stored cases for the given keys.
func (s *Store) findByKeys(ctx context.Context, q querier, keys []store.Key) (map[store.Key]store.Stored, error) {
	out := map[store.Key]store.Stored{}
	if len(keys) == 0 {
		return out, nil
	}
	chIDs, extIDs := make([]string, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		chIDs[i], extIDs[i] = k.ChannelID, k.ExternalID
	}
	rows, err := q.Query(ctx, findByKeysSQL, chIDs, extIDs)
	if err != nil {
		return nil, fmt.Errorf("find cases by external id: %w", err)
	}
	cases, err := scanCases(rows)
	if err != nil {
		return nil, err
	}
	for _, sc := range cases {
		out[store.Key{ChannelID: sc.Case.ChannelID, ExternalID: sc.Case.ExternalID}] = sc
	}
	return out, nil
}

// scanCases reads rows of caseColumns and attaches each case's status history.
func scanCases(rows pgx.Rows) ([]store.Stored, error) {
	defer rows.Close()
	var out []store.Stored
	for rows.Next() {
		var (
			id, status, ref, hash, chID, extID string
			record, initial, history           []byte
			merged                             int
		)
		if err := rows.Scan(&id, &record, &status, &ref, &hash, &chID, &extID, &merged, &initial, &history); err != nil {
			return nil, fmt.Errorf("scan case: %w", err)
		}
		c, err := decodeCaseRow(record, status, ref, merged, initial, history)
		if err != nil {
			return nil, err
		}
		out = append(out, store.Stored{Case: c, PayloadHash: hash})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read cases: %w", err)
	}
	return out, nil
}

// GetCase finds a case by id or case number.
func (s *Store) GetCase(ctx context.Context, ref string) (*intake.Case, error) {
	var (
		rows pgx.Rows
		err  error
	)
	if store.IsUUID(ref) {
		rows, err = s.pool.Query(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.id = $1`, ref)
	} else {
		rows, err = s.pool.Query(ctx, `SELECT `+caseColumns+` FROM cases c WHERE c.case_no = $1`, ref)
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("get case: %w", err))
	}
	cases, err := scanCases(rows)
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
	if !store.IsUUID(caseID) {
		return false, fmt.Errorf("case %q: %w", caseID, intake.ErrNotFound)
	}
	now := s.clock.Now().UTC()
	var eventID *string
	if ch.EventID != "" {
		eventID = &ch.EventID
	}
	applied := false
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Lock the case so that concurrent changes apply in a definite order.
		var current string
		if err := tx.QueryRow(ctx, `SELECT status FROM cases WHERE id = $1 FOR UPDATE`, caseID).Scan(&current); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("case %q: %w", caseID, intake.ErrNotFound)
			}
			return fmt.Errorf("lock case: %w", err)
		}
		status, event := store.HistoryEntry(ch, intake.Status(current))
		tag, err := tx.Exec(ctx, `INSERT INTO case_status_history (case_id, status, event, at, source, event_id, department, message, recorded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING`,
			caseID, string(status), event, ch.At.UTC(), ch.Source, eventID, ch.Department, ch.Message, now)
		if err != nil {
			return fmt.Errorf("insert status: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		applied = true
		// The current status is that of the latest event by the event's own time, so an event that
		// arrives late does not move the case backwards. The case system's events outrank the
		// gateway's own entries, whatever the two clocks say.
		// A case whose first entry is kept in its row (not in the table) keeps its status
		// until an entry that changes it arrives.
		// first_resolved_at is the earliest resolution or closure of the history, whatever order
		// the events arrive in (the figures' 按时办结 compare it with the deadline).
		_, err = tx.Exec(ctx, `UPDATE cases SET status = COALESCE((
				SELECT status FROM case_status_history WHERE case_id = $1 AND event NOT IN ('progress', 'feedback')
				ORDER BY event NOT IN ('received', 'forwarded') DESC, at DESC, id DESC LIMIT 1), status),
				first_resolved_at = CASE WHEN $3::text IN ('resolved', 'closed') THEN LEAST(first_resolved_at, $4) ELSE first_resolved_at END,
				updated_at = $2 WHERE id = $1`, caseID, now, event, ch.At.UTC())
		if err != nil {
			return fmt.Errorf("update case status: %w", err)
		}
		_, err = s.insertNotifications(ctx, tx, notes)
		return err
	})
	if err != nil {
		return false, unavailable(err)
	}
	return applied, nil
}

// Deliveries lists a case's deliveries.
func (s *Store) Deliveries(ctx context.Context, caseID string) ([]intake.Delivery, error) {
	if !store.IsUUID(caseID) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT id::text, case_id::text, event, target, state, attempts, last_error, created_at, updated_at
		FROM deliveries WHERE case_id = $1 ORDER BY created_at, id`, caseID)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list deliveries: %w", err))
	}
	defer rows.Close()
	var out []intake.Delivery
	for rows.Next() {
		var d intake.Delivery
		if err := rows.Scan(&d.ID, &d.CaseID, &d.Event, &d.Target, &d.State, &d.Attempts, &d.LastError, &d.CreatedAt, &d.UpdatedAt); err != nil {
			return nil, fmt.Errorf("scan delivery: %w", err)
		}
		d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
		out = append(out, d)
	}
	return out, unavailable(rows.Err())
}

// decodeCaseRow rebuilds a case from the columns of caseColumns.
func decodeCaseRow(record []byte, status, ref string, merged int, initial, history []byte) (*intake.Case, error) {
	var changes []intake.StatusChange
	if err := json.Unmarshal(history, &changes); err != nil {
		return nil, fmt.Errorf("decode status history: %w", err)
	}
	for i := range changes {
		changes[i].At = changes[i].At.UTC()
	}
	return store.DecodeRecord(record, status, ref, merged, initial, changes)
}
