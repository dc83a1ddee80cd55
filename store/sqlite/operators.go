package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/store"
)

// The console's search reads a few fields of the case record (see the PostgreSQL store); the
// classification's keys have columns of their own (store.StatsKeys).
const (
	colDistrict = `json_extract(c.record, '$.location.district')`
	colText     = `json_extract(c.record, '$.content.text')`
)

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// CreateUser stores a new operator with its audit entry.
func (s *Store) CreateUser(ctx context.Context, u intake.User, audit intake.AuditEntry) (intake.User, error) {
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	u.ID, u.CreatedAt, u.UpdatedAt = store.NewID(), now, now
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, name, role, password_hash, disabled, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, u.ID, u.Name, string(u.Role), u.PasswordHash, u.Disabled, micros(now), micros(now))
		if err != nil {
			var liteErr *sqlite.Error
			if errors.As(err, &liteErr) && liteErr.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE {
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

// inTx runs fn in a transaction and commits it when fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

const userColumns = `u.id, u.name, u.role, u.password_hash, u.disabled, u.created_at, u.updated_at`

type rowScanner interface {
	Scan(dest ...any) error
}

func scanUser(row rowScanner) (*intake.User, error) {
	var (
		u                intake.User
		created, updated int64
	)
	if err := row.Scan(&u.ID, &u.Name, &u.Role, &u.PasswordHash, &u.Disabled, &created, &updated); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &u, nil
}

// UserByName finds an operator by name.
func (s *Store) UserByName(ctx context.Context, name string) (*intake.User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("user %q: %w", name, intake.ErrNotFound)
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("read user: %w", err))
	}
	return u, nil
}

// ListUsers lists every operator by name.
func (s *Store) ListUsers(ctx context.Context) ([]intake.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+userColumns+` FROM users u ORDER BY u.name`)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list users: %w", err))
	}
	defer rows.Close()
	var users []intake.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("scan user: %w", err)
		}
		users = append(users, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("read users: %w", err))
	}
	return users, nil
}

// UpdateUser changes an operator, ends its sessions and audits the change.
func (s *Store) UpdateUser(ctx context.Context, name string, ch intake.UserChange, audit intake.AuditEntry) (intake.User, error) {
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var out intake.User
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.name = ?`, name))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %q: %w", name, intake.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("read user: %w", err)
		}
		store.ApplyUserChange(u, ch, now)
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, disabled = ?, password_hash = ?, updated_at = ? WHERE id = ?`,
			string(u.Role), u.Disabled, u.PasswordHash, micros(now), u.ID); err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_sessions WHERE user_id = ?`, u.ID); err != nil {
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
	return unavailable(s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_sessions WHERE user_id = ? AND expires_at <= ?`, ss.UserID, micros(ss.CreatedAt)); err != nil {
			return fmt.Errorf("drop expired sessions: %w", err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO user_sessions (id_hash, user_id, csrf_token, remote_addr, created_at, last_seen, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, ss.IDHash, ss.UserID, ss.CSRFToken, ss.RemoteAddr,
			micros(ss.CreatedAt), micros(ss.LastSeen), micros(ss.ExpiresAt))
		if err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		return nil
	}))
}

// SessionUser reads a session with its operator.
func (s *Store) SessionUser(ctx context.Context, idHash string) (*intake.Session, *intake.User, error) {
	var (
		ss                                         intake.Session
		u                                          intake.User
		created, seen, expires, uCreated, uUpdated int64
	)
	err := s.db.QueryRowContext(ctx, `SELECT s.id_hash, s.user_id, s.csrf_token, s.remote_addr, s.created_at, s.last_seen, s.expires_at,
			`+userColumns+` FROM user_sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`, idHash).
		Scan(&ss.IDHash, &ss.UserID, &ss.CSRFToken, &ss.RemoteAddr, &created, &seen, &expires,
			&u.ID, &u.Name, &u.Role, &u.PasswordHash, &u.Disabled, &uCreated, &uUpdated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("session: %w", intake.ErrNotFound)
	}
	if err != nil {
		return nil, nil, unavailable(fmt.Errorf("read session: %w", err))
	}
	ss.CreatedAt, ss.LastSeen, ss.ExpiresAt = fromMicros(created), fromMicros(seen), fromMicros(expires)
	u.CreatedAt, u.UpdatedAt = fromMicros(uCreated), fromMicros(uUpdated)
	return &ss, &u, nil
}

// TouchSession records activity on a session.
func (s *Store) TouchSession(ctx context.Context, idHash string, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE user_sessions SET last_seen = max(last_seen, ?) WHERE id_hash = ?`, micros(at), idHash)
	if err != nil {
		return unavailable(fmt.Errorf("touch session: %w", err))
	}
	return nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM user_sessions WHERE id_hash = ?`, idHash); err != nil {
		return unavailable(fmt.Errorf("delete session: %w", err))
	}
	return nil
}

func appendAudit(ctx context.Context, q execer, e intake.AuditEntry, now time.Time) error {
	at := e.At
	if at.IsZero() {
		at = now
	}
	_, err := q.ExecContext(ctx, `INSERT INTO audit_log (at, actor, actor_kind, action, target, remote_addr, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, micros(at), e.Actor, e.ActorKind, e.Action, e.Target, e.RemoteAddr, e.Detail)
	if err != nil {
		return fmt.Errorf("append audit entry: %w", err)
	}
	return nil
}

// AppendAudit adds an entry to the audit log.
func (s *Store) AppendAudit(ctx context.Context, e intake.AuditEntry) error {
	return unavailable(appendAudit(ctx, s.db, e, s.clock.Now()))
}

// ListAudit pages through the audit log, newest first.
func (s *Store) ListAudit(ctx context.Context, f intake.AuditFilter) (intake.AuditPage, error) {
	limit := store.ListLimit(f.Limit)
	var (
		where []string
		args  []any
	)
	if f.Action != "" {
		where, args = append(where, "action = ?"), append(args, f.Action)
	}
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if f.Target != "" {
		where, args = append(where, "target = ?"), append(args, f.Target)
	}
	if f.Cursor != "" {
		id, err := store.DecodeAuditCursor(f.Cursor)
		if err != nil {
			return intake.AuditPage{}, err
		}
		where, args = append(where, "id < ?"), append(args, id)
	}
	query := `SELECT id, at, actor, actor_kind, action, target, remote_addr, detail FROM audit_log`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT ?"
	rows, err := s.db.QueryContext(ctx, query, append(args, limit+1)...)
	if err != nil {
		return intake.AuditPage{}, unavailable(fmt.Errorf("list audit: %w", err))
	}
	defer rows.Close()
	var entries []intake.AuditEntry
	for rows.Next() {
		var (
			e  intake.AuditEntry
			at int64
		)
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.ActorKind, &e.Action, &e.Target, &e.RemoteAddr, &e.Detail); err != nil {
			return intake.AuditPage{}, fmt.Errorf("scan audit entry: %w", err)
		}
		e.At = fromMicros(at)
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
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
	f := q.CaseFilter
	limit := store.ListLimit(f.Limit)
	var (
		where []string
		args  []any
	)
	add := func(cond string, v ...any) { where, args = append(where, cond), append(args, v...) }
	if f.Channel != "" {
		add("c.channel = ?", string(f.Channel))
	}
	if f.Status != "" {
		add("c.status = ?", string(f.Status))
	}
	if !f.ReceivedFrom.IsZero() {
		add("c.received_at >= ?", micros(f.ReceivedFrom))
	}
	if !f.ReceivedTo.IsZero() {
		add("c.received_at < ?", micros(f.ReceivedTo))
	}
	if q.Category != "" {
		add("c.category = ?", q.Category)
	}
	if q.RequestType != "" {
		add("c.request_type = ?", string(q.RequestType))
	}
	if q.Priority != "" {
		add("c.priority = ?", string(q.Priority))
	}
	if q.District != "" {
		add(colDistrict+" = ?", q.District)
	}
	if q.NeedsReview {
		add("c.needs_review = 1")
	}
	if q.Text != "" {
		if store.Indexable(q.Text) {
			// The trigram index (migration 00015) finds the substring; MATCH on a quoted phrase
			// is a case-insensitive substring test, as SQLite's LIKE is.
			add(`c.rowid IN (SELECT rowid FROM cases_text WHERE cases_text MATCH ?)`, store.FTSPhrase(q.Text))
		} else {
			add(colText+` LIKE ? ESCAPE '\'`, store.LikePattern(q.Text))
		}
	}
	if f.Cursor != "" {
		cur, err := store.DecodeCursor(f.Cursor)
		if err != nil {
			return intake.CasePage{}, err
		}
		add("(c.received_at, c.id) < (?, ?)", micros(cur.ReceivedAt), cur.ID)
	}
	query := `SELECT ` + caseColumns + ` FROM cases c`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY c.received_at DESC, c.id DESC LIMIT ?"
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return intake.CasePage{}, unavailable(fmt.Errorf("list cases: %w", err))
	}
	cases, err := s.scanCases(ctx, s.db, rows)
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

func (s *Store) keyCounts(ctx context.Context, query string, args ...any) ([]intake.KeyCount, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []intake.KeyCount
	for rows.Next() {
		var k intake.KeyCount
		if err := rows.Scan(&k.Key, &k.Count); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return store.SortCounts(out), rows.Err()
}

// CountReceived counts the cases received in [from, to) (a range of the cases_received index).
func (s *Store) CountReceived(ctx context.Context, from, to time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM cases WHERE received_at >= ? AND received_at < ?`, micros(from), micros(to)).Scan(&n)
	if err != nil {
		return 0, unavailable(fmt.Errorf("count cases received: %w", err))
	}
	return n, nil
}

// CaseStats computes the dashboard's figures.
func (s *Store) CaseStats(ctx context.Context, q intake.StatsQuery) (intake.Stats, error) {
	st, err := s.caseStats(ctx, q)
	if err != nil {
		return intake.Stats{}, unavailable(fmt.Errorf("case statistics: %w", err))
	}
	return st, nil
}

func (s *Store) caseStats(ctx context.Context, q intake.StatsQuery) (intake.Stats, error) {
	from, to := micros(q.From), micros(q.To)
	var st intake.Stats
	// One pass over the period's cases, a day at a time, grouped as finely as any figure needs
	// (store.FoldPeriod), read from the covering index cases_received.
	spans := store.DaySpans(q.From, q.To, s.opts.Location)
	buckets := make([][3]any, len(spans))
	for i, d := range spans {
		buckets[i] = [3]any{d.Day, micros(d.From), micros(d.To)}
	}
	bucketJSON, err := json.Marshal(buckets)
	if err != nil {
		return st, err
	}
	rows, err := s.db.QueryContext(ctx, `WITH d(day, lo, hi) AS (
			SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?))
		SELECT d.day, c.channel, c.category, c.request_type, count(*),
			COALESCE(sum(c.status IN ('resolved', 'closed')), 0),
			COALESCE(sum(c.status IN ('resolved', 'closed') AND (c.due_at IS NULL OR c.first_resolved_at <= c.due_at)), 0)
		FROM d JOIN cases c INDEXED BY cases_received ON c.received_at >= d.lo AND c.received_at < d.hi
		GROUP BY 1, 2, 3, 4`, string(bucketJSON))
	if err != nil {
		return st, err
	}
	defer rows.Close()
	var groups []store.PeriodCount
	for rows.Next() {
		var g store.PeriodCount
		if err := rows.Scan(&g.Day, &g.Channel, &g.Category, &g.RequestType, &g.Cases, &g.Resolved, &g.OnTime); err != nil {
			return st, err
		}
		groups = append(groups, g)
	}
	if err := rows.Err(); err != nil {
		return st, err
	}
	store.FoldPeriod(&st, groups)
	err = s.db.QueryRowContext(ctx, `SELECT count(*), COALESCE(sum(c.emergency), 0), COALESCE(sum(c.needs_review), 0)
		FROM cases c WHERE c.received_at >= ? AND c.received_at < ?`, micros(q.Today), micros(q.Today.AddDate(0, 0, 1))).
		Scan(&st.Today, &st.Emergencies, &st.NeedsReview)
	if err != nil {
		return st, err
	}
	now := micros(q.Now)
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(sum(c.due_at < ?1), 0), COALESCE(sum(c.due_at >= ?1), 0)
		FROM cases c WHERE c.due_at IS NOT NULL AND c.status IN (`+store.OpenStatusesSQL+`) AND c.due_at < ?2`,
		now, micros(q.Now.Add(24*time.Hour))).Scan(&st.Overdue, &st.DueSoon)
	if err != nil {
		return st, err
	}
	if st.Satisfaction, err = s.keyCounts(ctx, `SELECT CASE WHEN instr(message, ':') > 0 THEN substr(message, 1, instr(message, ':') - 1) ELSE message END, count(*)
		FROM case_status_history WHERE event = 'feedback' AND at >= ? AND at < ? GROUP BY 1`, from, to); err != nil {
		return st, err
	}
	if st.Notices, err = s.keyCounts(ctx, `SELECT state, count(*) FROM notifications WHERE created_at >= ? AND created_at < ? GROUP BY 1`, from, to); err != nil {
		return st, err
	}
	return st, nil
}

// CorrectClassification applies and records an operator's correction, with its audit entry and
// a case.updated delivery, in one transaction.
func (s *Store) CorrectClassification(ctx context.Context, caseID string, corr intake.Correction, audit intake.AuditEntry) (*intake.Case, error) {
	if err := store.CheckCorrection(corr); err != nil {
		return nil, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	if corr.At.IsZero() {
		corr.At = now
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var record []byte
		if err := tx.QueryRowContext(ctx, `SELECT record FROM cases WHERE id = ?`, caseID).Scan(&record); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("case %q: %w", caseID, intake.ErrNotFound)
			}
			return fmt.Errorf("read case: %w", err)
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
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET record = ?, priority = ?, updated_at = ?,
				category = ?, request_type = ?, emergency = ?, needs_review = ?, due_at = ? WHERE id = ?`,
			string(rec), string(c.Priority), micros(now), k.Category, k.RequestType, k.Emergency, k.NeedsReview, microsOrNil(k.DueAt), caseID); err != nil {
			return fmt.Errorf("update case: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO classification_corrections (case_id, at, actor, category, request_type, emergency, out_of_scope, note,
				auto_category, auto_request_type, auto_emergency, auto_out_of_scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			caseID, micros(corr.At), corr.Actor, corr.Category, string(corr.RequestType), string(corr.Emergency), corr.OutOfScope, corr.Note,
			corr.AutoCategory, string(corr.AutoRequestType), string(corr.AutoEmergency), corr.AutoOutOfScope); err != nil {
			return fmt.Errorf("store correction: %w", err)
		}
		if err := appendAudit(ctx, tx, audit, now); err != nil {
			return err
		}
		var target string
		err = tx.QueryRowContext(ctx, `SELECT target FROM deliveries WHERE case_id = ? AND event IN ('case.created', 'case.duplicate') ORDER BY created_at LIMIT 1`, caseID).Scan(&target)
		if errors.Is(err, sql.ErrNoRows) {
			target = s.opts.DefaultTarget
		} else if err != nil {
			return fmt.Errorf("find case target: %w", err)
		}
		if target == "" {
			return nil
		}
		d, job := store.NewUpdateDelivery(c, target, now)
		if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (id, case_id, event, target, state, created_at, updated_at) VALUES (?, ?, ?, ?, 'queued', ?, ?)`,
			d.ID, caseID, d.Event, d.Target, micros(now), micros(now)); err != nil {
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

const correctionColumns = `k.id, k.case_id, k.at, k.actor, k.category, k.request_type, k.emergency, k.out_of_scope, k.note,
	k.auto_category, k.auto_request_type, k.auto_emergency, k.auto_out_of_scope`

func (s *Store) corrections(ctx context.Context, query string, withCase bool, args ...any) ([]intake.Correction, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list corrections: %w", err))
	}
	defer rows.Close()
	var out []intake.Correction
	for rows.Next() {
		var (
			k  intake.Correction
			at int64
		)
		dst := []any{&k.ID, &k.CaseID, &at, &k.Actor, &k.Category, &k.RequestType, &k.Emergency, &k.OutOfScope, &k.Note,
			&k.AutoCategory, &k.AutoRequestType, &k.AutoEmergency, &k.AutoOutOfScope}
		if withCase {
			dst = append(dst, &k.Text, &k.Channel)
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, fmt.Errorf("scan correction: %w", err)
		}
		k.At = fromMicros(at)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("read corrections: %w", err))
	}
	return out, nil
}

// Corrections lists a case's corrections, oldest first.
func (s *Store) Corrections(ctx context.Context, caseID string) ([]intake.Correction, error) {
	return s.corrections(ctx, `SELECT `+correctionColumns+` FROM classification_corrections k WHERE k.case_id = ? ORDER BY k.id`, false, caseID)
}

// ListCorrections pages through every correction with its case's text and channel.
func (s *Store) ListCorrections(ctx context.Context, afterID int64, limit int) ([]intake.Correction, error) {
	return s.corrections(ctx, `SELECT `+correctionColumns+`, `+colText+`, c.channel
		FROM classification_corrections k JOIN cases c ON c.id = k.case_id WHERE k.id > ? ORDER BY k.id LIMIT ?`, true, afterID, store.ListLimit(limit))
}

// ChannelActivity reports each channel's cases and failed notifications since since.
func (s *Store) ChannelActivity(ctx context.Context, since time.Time) ([]intake.ChannelActivity, error) {
	var acts []intake.ChannelActivity
	err := queryEach(ctx, s.db, `SELECT channel_id, channel, count(*), max(received_at) FROM cases
		WHERE received_at >= ? GROUP BY 1, 2`, []any{micros(since)}, func(rows *sql.Rows) error {
		var (
			a    intake.ChannelActivity
			last int64
		)
		if err := rows.Scan(&a.ChannelID, &a.Channel, &a.Cases, &last); err != nil {
			return err
		}
		a.LastCaseAt = fromMicros(last)
		acts = append(acts, a)
		return nil
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("channel activity: %w", err))
	}
	var fails []store.ChannelFailure
	err = queryEach(ctx, s.db, `SELECT channel_id, reason, count(*), max(updated_at) FROM notifications
		WHERE state = 'failed' AND created_at >= ? GROUP BY 1, 2`, []any{micros(since)}, func(rows *sql.Rows) error {
		var (
			f    store.ChannelFailure
			last int64
		)
		if err := rows.Scan(&f.ChannelID, &f.Reason, &f.Count, &last); err != nil {
			return err
		}
		f.Last = fromMicros(last)
		fails = append(fails, f)
		return nil
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("failed notifications: %w", err))
	}
	return store.MergeChannelActivity(acts, fails), nil
}

// TokenStates lists the stored platform tokens' keys and expiries.
func (s *Store) TokenStates(ctx context.Context) ([]intake.TokenState, error) {
	var out []intake.TokenState
	err := queryEach(ctx, s.db, `SELECT key, expires_at FROM platform_tokens ORDER BY key`, nil, func(rows *sql.Rows) error {
		var (
			t   intake.TokenState
			exp int64
		)
		if err := rows.Scan(&t.Key, &exp); err != nil {
			return err
		}
		t.ExpiresAt = fromMicros(exp)
		out = append(out, t)
		return nil
	})
	if err != nil {
		return nil, unavailable(fmt.Errorf("token states: %w", err))
	}
	return out, nil
}

// queryEach runs a query and hands each row to fn.
func queryEach(ctx context.Context, db *sql.DB, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
