package postgres

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Citizen locks keep one citizen's messages decided one at a time across replicas: a text and
// the photo sent right after it reach two replicas together, and each would otherwise read "no
// open case" and open one. The lock is a session-level advisory lock, taken with
// pg_try_advisory_lock on one of a few dedicated connections and polled while another replica
// holds it.
//
// Why not a transaction-scoped lock on a pooled connection: the decision it protects reads the
// conversation (a batched read) and then creates the case through group commit, both on other
// pool connections. Holding a pool connection per message while waiting for them starves the
// writers under load (every connection held by a waiter, none left to commit), and a second pool
// of blocking locks would cost a connection per message in flight — 128 concurrent senders,
// 128 connections. A try-lock never blocks its connection, so a couple of sessions carry every
// lock of the replica, and the lock and unlock statements of concurrent messages travel
// together: one round trip serves every message waiting on that session.
//
// A session's locks last as long as the session: if its connection breaks, the server releases
// them while their holders still decide. That window (a lost connection while a citizen's two
// messages race) could at worst open a second case; it never loses a message.

// lockShards is how many lock sessions a store keeps. A key always maps to the same one, since
// only the session that took a lock can release it.
const lockShards = 2

// maxLockBatch caps the lock operations sent in one statement.
const maxLockBatch = 256

// lockStatementTimeout bounds one statement of lock operations. It runs without any caller's
// cancellation: a cancelled statement closes the connection, which would release every lock the
// session holds for other callers. A try-lock never waits, so the bound is only for a database
// that stopped answering.
const lockStatementTimeout = 3 * time.Second

var errLocksClosed = errors.New("citizen lock: store closed")

type lockOp struct {
	id   int64
	lock bool // pg_try_advisory_lock; false: pg_advisory_unlock
	done chan lockResult
}

type lockResult struct {
	ok  bool
	err error
}

// lockSession owns one connection; its goroutine sends the operations waiting for it together.
type lockSession struct {
	cfg     *pgx.ConnConfig
	ops     chan lockOp
	quit    chan struct{}
	stopped chan struct{}
	conn    *pgx.Conn // only the session's goroutine touches it
}

func newLockSession(cfg *pgx.ConnConfig) *lockSession {
	l := &lockSession{cfg: cfg, ops: make(chan lockOp, maxLockBatch), quit: make(chan struct{}), stopped: make(chan struct{})}
	go l.run()
	return l
}

// do runs one operation and waits for its result. It does not give up with a caller's context:
// a lock granted to a caller that left could never be released.
func (l *lockSession) do(id int64, lock bool) (bool, error) {
	op := lockOp{id: id, lock: lock, done: make(chan lockResult, 1)}
	select {
	case l.ops <- op:
	case <-l.quit:
		return false, errLocksClosed
	}
	select {
	case r := <-op.done:
		return r.ok, r.err
	case <-l.stopped:
		select {
		case r := <-op.done:
			return r.ok, r.err
		default:
			return false, errLocksClosed
		}
	}
}

func (l *lockSession) run() {
	defer close(l.stopped)
	batch := make([]lockOp, 0, maxLockBatch)
	for {
		batch = batch[:0]
		select {
		case op := <-l.ops:
			batch = append(batch, op)
		case <-l.quit:
			l.closeConn()
			l.drain()
			return
		}
	gather:
		for len(batch) < maxLockBatch {
			select {
			case op := <-l.ops:
				batch = append(batch, op)
			default:
				break gather
			}
		}
		oks, err := l.exec(batch)
		for i, op := range batch {
			if err != nil {
				op.done <- lockResult{err: err}
				continue
			}
			op.done <- lockResult{ok: oks[i]}
		}
	}
}

// drain answers what was queued when the session stopped.
func (l *lockSession) drain() {
	for {
		select {
		case op := <-l.ops:
			op.done <- lockResult{err: errLocksClosed}
		default:
			return
		}
	}
}

// exec sends a batch as one statement, reconnecting when needed. Keys in one batch are
// distinct: the caller's in-process lock keeps a key's lock and unlock from travelling together.
func (l *lockSession) exec(batch []lockOp) ([]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), lockStatementTimeout)
	defer cancel()
	if l.conn == nil || l.conn.IsClosed() {
		conn, err := pgx.ConnectConfig(ctx, l.cfg)
		if err != nil {
			return nil, unavailable(fmt.Errorf("citizen lock: connect: %w", err))
		}
		l.conn = conn
	}
	ids, locks := make([]int64, len(batch)), make([]bool, len(batch))
	for i, op := range batch {
		ids[i], locks[i] = op.id, op.lock
	}
	rows, err := l.conn.Query(ctx, `SELECT CASE WHEN t.lock THEN pg_try_advisory_lock(t.k) ELSE pg_advisory_unlock(t.k) END
		FROM unnest($1::bigint[], $2::bool[]) WITH ORDINALITY AS t(k, lock, i) ORDER BY t.i`, ids, locks)
	if err == nil {
		var oks []bool
		oks, err = pgx.CollectRows(rows, pgx.RowTo[bool])
		if err == nil && len(oks) != len(batch) {
			err = fmt.Errorf("%d answers for %d lock operations", len(oks), len(batch))
		}
		if err == nil {
			return oks, nil
		}
	}
	// The session's state is unknown now: closing it releases whatever it held, so that no lock
	// outlives the error.
	l.closeConn()
	return nil, unavailable(fmt.Errorf("citizen lock: %w", err))
}

func (l *lockSession) closeConn() {
	if l.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = l.conn.Close(ctx)
		l.conn = nil
	}
}

type citizenLocks struct {
	shards [lockShards]*lockSession
	// closed makes close idempotent, as the store's Close is.
	closed sync.Once
}

func newCitizenLocks(cfg *pgx.ConnConfig) *citizenLocks {
	l := &citizenLocks{}
	for i := range l.shards {
		l.shards[i] = newLockSession(cfg.Copy())
	}
	return l
}

func (l *citizenLocks) close() {
	l.closed.Do(func() {
		for _, s := range l.shards {
			close(s.quit)
			<-s.stopped
		}
	})
}

// citizenLockID is the advisory lock id of a conversation key. The prefix keeps it apart from
// the token and migration locks; two keys sharing an id would only wait for each other.
func citizenLockID(key string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("citizen:" + key))
	return int64(h.Sum64())
}

// Polling bounds while another replica holds a citizen's lock: a decision takes a few
// milliseconds, so the first retries come soon.
const (
	lockPollMin = time.Millisecond
	lockPollMax = 25 * time.Millisecond
)

// LockCitizen waits until no other replica decides a message of the conversation key, then
// holds its lock until the returned function is called. The caller must already exclude its own
// process's other callers of the same key (the conversation's in-process lock does): a session
// takes its own lock again without waiting.
func (s *Store) LockCitizen(ctx context.Context, key string) (func(), error) {
	id := citizenLockID(key)
	sess := s.citizenLocks.shards[uint64(id)%lockShards]
	wait := lockPollMin
	for {
		ok, err := sess.do(id, true)
		if err != nil {
			return nil, err
		}
		if ok {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("citizen lock: %w", ctx.Err())
		case <-t.C:
		}
		wait = min(wait*2, lockPollMax)
	}
	return func() {
		// A failed unlock closed the session, which released its locks; nothing is left held.
		if _, err := sess.do(id, false); err != nil && !errors.Is(err, errLocksClosed) {
			s.log.Warn("citizen lock not released cleanly; its session was closed", "error", err.Error())
		}
	}, nil
}
