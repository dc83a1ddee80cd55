package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/store"
)

// The console's search reads a few fields of the case record; it is json, so these are computed
// per row. The classification's keys have columns of their own (store.StatsKeys).
const (
	colDistrict = `(c.record->'location'->>'district')`
	colText     = `(c.record->'content'->>'text')`
)

// CreateUser stores a new operator with its audit entry.
func (s *Store) CreateUser(ctx context.Context, u intake.User, audit intake.AuditEntry) (intake.User, error) {
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	u.ID, u.CreatedAt, u.UpdatedAt = store.NewID(), now, now
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO users (id, name, role, password_hash, disabled, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $6)`, u.ID, u.Name, string(u.Role), u.PasswordHash, u.Disabled, now)
		if err != nil {
			var pgErr *pgconn.PgError
			if errors.As(err, &pgErr) && pgErr.Code == "23505" {
				return fmt.Errorf("user %q: %w", u.Name, intake.ErrExists)
			}
			return fmt.Errorf("insert user: %w", err)
		}
		return appendAudit(ctx, tx, audit, now)
	})
	if err != nil {
		return intake.User{}, unavailable(err)
	}
	return u, nil
}

const userColumns = `u.id::text, u.name, u.role, u.password_hash, u.disabled, u.created_at, u.updated_at`

func scanUser(row pgx.Row) (*intake.User, error) {
	var u intake.User
	if err := row.Scan(&u.ID, &u.Name, &u.Role, &u.PasswordHash, &u.Disabled, &u.CreatedAt, &u.UpdatedAt); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

// UserByName finds an operator by name.
func (s *Store) UserByName(ctx context.Context, name string) (*intake.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("user %q: %w", name, intake.ErrNotFound)
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("read user: %w", err))
	}
	return u, nil
}

// ListUsers lists every operator by name.
func (s *Store) ListUsers(ctx context.Context) ([]intake.User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users u ORDER BY u.name`)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list users: %w", err))
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (intake.User, error) {
		u, err := scanUser(r)
		if err != nil {
			return intake.User{}, err
		}
		return *u, nil
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("read users: %w", err))
	}
	return users, nil
}

// UpdateUser changes an operator, ends its sessions and audits the change.
func (s *Store) UpdateUser(ctx context.Context, name string, ch intake.UserChange, audit intake.AuditEntry) (intake.User, error) {
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var out intake.User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userColumns+` FROM users u WHERE u.name = $1 FOR UPDATE`, name))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("user %q: %w", name, intake.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read user: %w", err)
		}
		store.ApplyUserChange(u, ch, now)
		if _, err := tx.Exec(ctx, `UPDATE users SET role = $2, disabled = $3, password_hash = $4, updated_at = $5 WHERE id = $1`,
			u.ID, string(u.Role), u.Disabled, u.PasswordHash, now); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM user_sessions WHERE user_id = $1`, u.ID); err != nil {
			return fmt.Errorf("end sessions: %w", err)
		}
		out = *u
		return appendAudit(ctx, tx, audit, now)
	})
	if err != nil {
		return intake.User{}, unavailable(err)
	}
	return out, nil
}

// CreateSession stores a session and drops the user's expired ones.
func (s *Store) CreateSession(ctx context.Context, ss intake.Session) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM user_sessions WHERE user_id = $1 AND expires_at <= $2`, ss.UserID, ss.CreatedAt.UTC()); err != nil {
			return fmt.Errorf("drop expired sessions: %w", err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO user_sessions (id_hash, user_id, csrf_token, remote_addr, created_at, last_seen, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, ss.IDHash, ss.UserID, ss.CSRFToken, ss.RemoteAddr,
			ss.CreatedAt.UTC(), ss.LastSeen.UTC(), ss.ExpiresAt.UTC())
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		return nil
	})
	return unavailable(err)
}

// SessionUser reads a session with its operator.
func (s *Store) SessionUser(ctx context.Context, idHash string) (*intake.Session, *intake.User, error) {
	var (
		ss intake.Session
		u  intake.User
	)
	err := s.pool.QueryRow(ctx, `SELECT s.id_hash, s.user_id::text, s.csrf_token, s.remote_addr, s.created_at, s.last_seen, s.expires_at,
			`+userColumns+` FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1`, idHash).
		Scan(&ss.IDHash, &ss.UserID, &ss.CSRFToken, &ss.RemoteAddr, &ss.CreatedAt, &ss.LastSeen, &ss.ExpiresAt,
			&u.ID, &u.Name, &u.Role, &u.PasswordHash, &u.Disabled, &u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, fmt.Errorf("session: %w", intake.ErrNotFound)
	}
	if err != nil {
		return nil, nil, unavailable(fmt.Errorf("read session: %w", err))
	}
	ss.CreatedAt, ss.LastSeen, ss.ExpiresAt = ss.CreatedAt.UTC(), ss.LastSeen.UTC(), ss.ExpiresAt.UTC()
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &ss, &u, nil
}

// TouchSession records activity on a session.
func (s *Store) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	_, err := s.pool.Exec(ctx, `UPDATE user_sessions SET last_seen = greatest(last_seen, $2) WHERE id_hash = $1`, idHash, at.UTC())
	if err != nil {
		return unavailable(fmt.Errorf("touch session: %w", err))
	}
	return nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM user_sessions WHERE id_hash = $1`, idHash); err != nil {
		return unavailable(fmt.Errorf("delete session: %w", err))
	}
	return nil
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func appendAudit(ctx context.Context, q execer, e intake.AuditEntry, now time.Time) error {
	at := e.At
	if at.IsZero() {
		at = now
	}
	_, err := q.Exec(ctx, `INSERT INTO audit_log (at, actor, actor_kind, action, target, remote_addr, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, at.UTC(), e.Actor, e.ActorKind, e.Action, e.Target, e.RemoteAddr, e.Detail)
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	return nil
}

// AppendAudit adds an entry to the audit log.
func (s *Store) AppendAudit(ctx context.Context, e intake.AuditEntry) error {
	return unavailable(appendAudit(ctx, s.pool, e, s.clock.Now()))
}

// ListAudit pages through the audit log, newest first.
func (s *Store) ListAudit(ctx context.Context, f intake.AuditFilter) (intake.AuditPage, error) {
	limit := store.ListLimit(f.Limit)
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Action != "" {
		where = append(where, "action = "+arg(f.Action))
	}
	if f.Actor != "" {
		where = append(where, "actor = "+arg(f.Actor))
	}
	if f.Target != "" {
		where = append(where, "target = "+arg(f.Target))
	}
	if f.Cursor != "" {
		id, err := store.DecodeAuditCursor(f.Cursor)
		if err != nil {
			return intake.AuditPage{}, err
		}
		where = append(where, "id < "+arg(id))
	}
	query := `SELECT id, at, actor, actor_kind, action, target, remote_addr, detail FROM audit_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT " + arg(limit+1)
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return intake.AuditPage{}, unavailable(fmt.Errorf("list audit: %w", err))
	}
	entries, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (intake.AuditEntry, error) {
		var e intake.AuditEntry
		err := r.Scan(&e.ID, &e.At, &e.Actor, &e.ActorKind, &e.Action, &e.Target, &e.RemoteAddr, &e.Detail)
		e.At = e.At.UTC()
		return e, err
	})
	if err != nil {
		return intake.AuditPage{}, unavailable(fmt.Errorf("read audit: %w", err))
	}
	page := intake.AuditPage{Entries: entries}
	if len(entries) > limit {
		page.Entries = entries[:limit]
		page.NextCursor = store.EncodeAuditCursor(entries[limit-1].ID)
	}
	return page, nil
}

// SearchCases pages through cases newest first, filtered.
func (s *Store) SearchCases(ctx context.Context, q intake.CaseSearch) (intake.CasePage, error) {
	limit := store.ListLimit(q.Limit)
	query, args, err := searchSQL(q, limit)
	if err != nil {
		return intake.CasePage{}, err
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return intake.CasePage{}, unavailable(fmt.Errorf("list cases: %w", err))
	}
	cases, err := scanCases(rows)
	if err != nil {
		return intake.CasePage{}, unavailable(err)
	}
	page := intake.CasePage{Cases: make([]*intake.Case, 0, min(len(cases), limit))}
	for i, sc := range cases {
		if i == limit {
			last := page.Cases[limit-1]
			page.NextCursor = store.Cursor{ReceivedAt: last.ReceivedAt, ID: last.ID}.Encode()
			break
		}
		page.Cases = append(page.Cases, sc.Case)
	}
	return page, nil
}

// searchSQL is SearchCases' query (limit+1 rows, to know whether another page follows).
func searchSQL(q intake.CaseSearch, limit int) (string, []any, error) {
	f := q.CaseFilter
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if f.Channel != "" {
		where = append(where, "c.channel = "+arg(string(f.Channel)))
	}
	if f.Status != "" {
		where = append(where, "c.status = "+arg(string(f.Status)))
	}
	if !f.ReceivedFrom.IsZero() {
		where = append(where, "c.received_at >= "+arg(f.ReceivedFrom.UTC()))
	}
	if !f.ReceivedTo.IsZero() {
		where = append(where, "c.received_at < "+arg(f.ReceivedTo.UTC()))
	}
	if q.Category != "" {
		where = append(where, "c.category = "+arg(q.Category))
	}
	if q.RequestType != "" {
		where = append(where, "c.request_type = "+arg(string(q.RequestType)))
	}
	if q.Priority != "" {
		where = append(where, "c.priority = "+arg(string(q.Priority)))
	}
	if q.District != "" {
		where = append(where, colDistrict+" = "+arg(q.District))
	}
	if q.NeedsReview {
		where = append(where, "c.needs_review")
	}
	if q.Text != "" {
		// ILIKE, to match SQLite's case-insensitive LIKE and FTS5 MATCH. From three characters
		// on, the trigram index cases_text_trgm (migration 00015) serves it; shorter queries have
		// no trigram and are answered by walking the newest cases until a page is full.
		where = append(where, colText+` ILIKE `+arg(store.LikePattern(q.Text))+` ESCAPE '\'`)
	}
	if f.Cursor != "" {
		cur, err := store.DecodeCursor(f.Cursor)
		if err != nil {
			return "", nil, err
		}
		where = append(where, fmt.Sprintf("(c.received_at, c.id) < (%s, %s::uuid)", arg(cur.ReceivedAt), arg(cur.ID)))
	}
	query := `SELECT ` + caseColumns + ` FROM cases c`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY c.received_at DESC, c.id DESC LIMIT " + arg(limit+1)
	return query, args, nil
}

// CountReceived counts the cases received in [from, to) (an index-only range of cases_received).
func (s *Store) CountReceived(ctx context.Context, from, to time.Time) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM cases WHERE received_at >= $1 AND received_at < $2`, from.UTC(), to.UTC()).Scan(&n)
	if err != nil {
		return 0, unavailable(fmt.Errorf("count cases received: %w", err))
	}
	return n, nil
}

// The dashboard's queries (CaseStats), each served by an index of migration 00013.
const (
	// statsPeriodSQL counts the period's cases, a local day at a time ($1 days, $2 and $3 their
	// bounds), grouped as finely as any figure needs: an index-only range scan of cases_received
	// per day.
	statsPeriodSQL = `SELECT d.day, c.channel, c.category, c.request_type, count(*),
			count(*) FILTER (WHERE c.status IN ('resolved', 'closed')),
			count(*) FILTER (WHERE c.status IN ('resolved', 'closed') AND (c.due_at IS NULL OR c.first_resolved_at <= c.due_at))
		FROM unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS d(day, lo, hi)
		JOIN cases c ON c.received_at >= d.lo AND c.received_at < d.hi
		GROUP BY 1, 2, 3, 4`
	// statsTodaySQL counts the day's cases, emergencies and cases awaiting review.
	statsTodaySQL = `SELECT count(*), count(*) FILTER (WHERE c.emergency), count(*) FILTER (WHERE c.needs_review)
		FROM cases c WHERE c.received_at >= $1 AND c.received_at < $2`
	// statsDueSQL counts open cases overdue at $1 and due before $2, through cases_open_due (the
	// status list must be the index's, as constants).
	statsDueSQL = `SELECT count(*) FILTER (WHERE c.due_at < $1), count(*) FILTER (WHERE c.due_at >= $1)
		FROM cases c WHERE c.due_at IS NOT NULL AND c.status IN (` + store.OpenStatusesSQL + `) AND c.due_at < $2`
	// statsFeedbackSQL counts the period's satisfaction answers by rating.
	statsFeedbackSQL = `SELECT split_part(message, ':', 1), count(*) FROM case_status_history
		WHERE event = 'feedback' AND at >= $1 AND at < $2 GROUP BY 1`
	// statsNoticesSQL counts the period's notifications by state.
	statsNoticesSQL = `SELECT state, count(*) FROM notifications WHERE created_at >= $1 AND created_at < $2 GROUP BY 1`
)

// CaseStats computes the dashboard's figures in one round trip. Every query reads an index: the
// period's cases through cases_received (index-only: the figures' columns are carried in it),
// open cases by deadline through cases_open_due, feedback through case_status_history_feedback
// and notifications through notifications_created (migration 00013).
func (s *Store) CaseStats(ctx context.Context, q intake.StatsQuery) (intake.Stats, error) {
	from, to, today, now := q.From.UTC(), q.To.UTC(), q.Today.UTC(), q.Now.UTC()
	spans := store.DaySpans(q.From, q.To, s.opts.Location)
	days, los, his := make([]string, len(spans)), make([]time.Time, len(spans)), make([]time.Time, len(spans))
	for i, d := range spans {
		days[i], los[i], his[i] = d.Day, d.From, d.To
	}
	st := intake.Stats{}
	b := &pgx.Batch{}
	keyCounts := func(dst *[]intake.KeyCount) func(pgx.Rows) error {
		return func(rows pgx.Rows) error {
			out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (intake.KeyCount, error) {
				var k intake.KeyCount
				err := r.Scan(&k.Key, &k.Count)
				return k, err
			})
			*dst = store.SortCounts(out)
			return err
		}
	}
	queue := func(sql string, scan func(pgx.Rows) error, args ...any) {
		b.Queue(sql, args...).Query(scan)
	}
	// The period's figures are sums of its groups (store.FoldPeriod).
	var groups []store.PeriodCount
	queue(statsPeriodSQL, func(rows pgx.Rows) error {
		var err error
		groups, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.PeriodCount, error) {
			var g store.PeriodCount
			err := r.Scan(&g.Day, &g.Channel, &g.Category, &g.RequestType, &g.Cases, &g.Resolved, &g.OnTime)
			return g, err
		})
		return err
	}, days, los, his)
	queue(statsTodaySQL, func(rows pgx.Rows) error {
		defer rows.Close()
		if rows.Next() {
			if err := rows.Scan(&st.Today, &st.Emergencies, &st.NeedsReview); err != nil {
				return err
			}
		}
		return rows.Err()
	}, today, q.Today.AddDate(0, 0, 1).UTC())
	queue(statsDueSQL, func(rows pgx.Rows) error {
		defer rows.Close()
		if rows.Next() {
			if err := rows.Scan(&st.Overdue, &st.DueSoon); err != nil {
				return err
			}
		}
		return rows.Err()
	}, now, now.Add(24*time.Hour))
	queue(statsFeedbackSQL, keyCounts(&st.Satisfaction), from, to)
	queue(statsNoticesSQL, keyCounts(&st.Notices), from, to)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return intake.Stats{}, unavailable(fmt.Errorf("case statistics: %w", err))
	}
	store.FoldPeriod(&st, groups)
	return st, nil
}

// CorrectClassification applies and records an operator's correction, with its audit entry and
// a case.updated delivery, in one transaction.
func (s *Store) CorrectClassification(ctx context.Context, caseID string, corr intake.Correction, audit intake.AuditEntry) (*intake.Case, error) {
	if !store.IsUUID(caseID) {
		return nil, fmt.Errorf("case %q: %w", caseID, intake.ErrNotFound)
	}
	if err := store.CheckCorrection(corr); err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	if corr.At.IsZero() {
		corr.At = now
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var record []byte
		if err := tx.QueryRow(ctx, `SELECT record FROM cases WHERE id = $1 FOR UPDATE`, caseID).Scan(&record); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("case %q: %w", caseID, intake.ErrNotFound)
			}
			return fmt.Errorf("lock case: %w", err)
		}
		c, err := store.DecodeRecord(record, "", "", 0, nil, nil)
		if err != nil {
			return err
		}
		store.ApplyCorrection(c, &corr, store.EmergencyNumbers)
		rec, err := store.EncodeRecord(c)
		if err != nil {
			return err
		}
		k := store.KeysOf(c)
		b := &pgx.Batch{}
		b.Queue(`UPDATE cases SET record = $2, priority = $3, updated_at = $4,
				category = $5, request_type = $6, emergency = $7, needs_review = $8, due_at = $9 WHERE id = $1`,
			caseID, string(rec), string(c.Priority), now, k.Category, k.RequestType, k.Emergency, k.NeedsReview, k.DueAt)
		b.Queue(`INSERT INTO classification_corrections (case_id, at, actor, category, request_type, emergency, out_of_scope, note,
				auto_category, auto_request_type, auto_emergency, auto_out_of_scope)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, caseID, corr.At.UTC(), corr.Actor, corr.Category,
			string(corr.RequestType), string(corr.Emergency), corr.OutOfScope, corr.Note,
			corr.AutoCategory, string(corr.AutoRequestType), string(corr.AutoEmergency), corr.AutoOutOfScope)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return fmt.Errorf("store correction: %w", err)
		}
		if err := appendAudit(ctx, tx, audit, now); err != nil {
			return err
		}
		// The case system hears of the correction where it heard of the case; a case never
		// forwarded anywhere has nobody to tell.
		var target string
		err = tx.QueryRow(ctx, `SELECT target FROM deliveries WHERE case_id = $1 AND event IN ('case.created', 'case.duplicate') ORDER BY created_at LIMIT 1`, caseID).Scan(&target)
		if errors.Is(err, pgx.ErrNoRows) {
			target = s.opts.DefaultTarget
		} else if err != nil {
			return fmt.Errorf("find case target: %w", err)
		}
		if target == "" {
			return nil
		}
		d, job := store.NewUpdateDelivery(c, target, now)
		if _, err := tx.Exec(ctx, `INSERT INTO deliveries (id, case_id, event, target, state, created_at, updated_at) VALUES ($1, $2, $3, $4, 'queued', $5, $5)`,
			d.ID, caseID, d.Event, d.Target, now); err != nil {
			return fmt.Errorf("insert delivery: %w", err)
		}
		if _, err := s.river.InsertManyFastTx(ctx, tx, []river.InsertManyParams{{Args: job, InsertOpts: &river.InsertOpts{
			Queue: jobs.ForwardQueue(target), Priority: store.JobPriority(c),
		}}}); err != nil {
			return fmt.Errorf("enqueue case.updated: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, unavailable(err)
	}
	return s.GetCase(ctx, caseID)
}

const correctionColumns = `k.id, k.case_id::text, k.at, k.actor, k.category, k.request_type, k.emergency, k.out_of_scope, k.note,
	k.auto_category, k.auto_request_type, k.auto_emergency, k.auto_out_of_scope`

func scanCorrection(r pgx.CollectableRow, extra ...any) (intake.Correction, error) {
	var k intake.Correction
	dst := append([]any{&k.ID, &k.CaseID, &k.At, &k.Actor, &k.Category, &k.RequestType, &k.Emergency, &k.OutOfScope, &k.Note,
		&k.AutoCategory, &k.AutoRequestType, &k.AutoEmergency, &k.AutoOutOfScope}, extra...)
	err := r.Scan(dst...)
	k.At = k.At.UTC()
	return k, err
}

// Corrections lists a case's corrections, oldest first.
func (s *Store) Corrections(ctx context.Context, caseID string) ([]intake.Correction, error) {
	if !store.IsUUID(caseID) {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT `+correctionColumns+` FROM classification_corrections k WHERE k.case_id = $1 ORDER BY k.id`, caseID)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list corrections: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (intake.Correction, error) { return scanCorrection(r) })
	if err != nil {
		return nil, unavailable(fmt.Errorf("read corrections: %w", err))
	}
	return out, nil
}

// ListCorrections pages through every correction with its case's text and channel.
func (s *Store) ListCorrections(ctx context.Context, afterID int64, limit int) ([]intake.Correction, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+correctionColumns+`, `+colText+`, c.channel
		FROM classification_corrections k JOIN cases c ON c.id = k.case_id WHERE k.id > $1 ORDER BY k.id LIMIT $2`, afterID, store.ListLimit(limit))
	if err != nil {
		return nil, unavailable(fmt.Errorf("list corrections: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (intake.Correction, error) {
		var (
			text    string
			channel string
		)
		k, err := scanCorrection(r, &text, &channel)
		k.Text, k.Channel = text, intake.ChannelKind(channel)
		return k, err
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("read corrections: %w", err))
	}
	return out, nil
}

// ChannelActivity reports each channel's cases and failed notifications since since.
func (s *Store) ChannelActivity(ctx context.Context, since time.Time) ([]intake.ChannelActivity, error) {
	rows, err := s.pool.Query(ctx, `SELECT channel_id, channel, count(*), max(received_at) FROM cases
		WHERE received_at >= $1 GROUP BY 1, 2`, since.UTC())
	if err != nil {
		return nil, unavailable(fmt.Errorf("channel activity: %w", err))
	}
	acts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (intake.ChannelActivity, error) {
		var a intake.ChannelActivity
		err := r.Scan(&a.ChannelID, &a.Channel, &a.Cases, &a.LastCaseAt)
		a.LastCaseAt = a.LastCaseAt.UTC()
		return a, err
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("channel activity: %w", err))
	}
	rows, err = s.pool.Query(ctx, `SELECT channel_id, reason, count(*), max(updated_at) FROM notifications
		WHERE state = 'failed' AND created_at >= $1 GROUP BY 1, 2`, since.UTC())
	if err != nil {
		return nil, unavailable(fmt.Errorf("failed notifications: %w", err))
	}
	fails, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.ChannelFailure, error) {
		var f store.ChannelFailure
		err := r.Scan(&f.ChannelID, &f.Reason, &f.Count, &f.Last)
		return f, err
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("failed notifications: %w", err))
	}
	return store.MergeChannelActivity(acts, fails), nil
}

// TokenStates lists the stored platform tokens' keys and expiries.
func (s *Store) TokenStates(ctx context.Context) ([]intake.TokenState, error) {
	rows, err := s.pool.Query(ctx, `SELECT key, expires_at FROM platform_tokens ORDER BY key`)
	if err != nil {
		return nil, unavailable(fmt.Errorf("token states: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (intake.TokenState, error) {
		var t intake.TokenState
		err := r.Scan(&t.Key, &t.ExpiresAt)
		t.ExpiresAt = t.ExpiresAt.UTC()
		return t, err
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("token states: %w", err))
	}
	return out, nil
}
