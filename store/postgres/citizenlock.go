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
// 128 connections. A try-lock never blocks its connection, so a handful of sessions carry every
// lock of the replica, two short statements per message.
//
// A session's locks last as long as the session: if its connection breaks, the server releases
// them while their holders still decide. That window (a lost connection while a citizen's two
// messages race) could at worst open a second case; it never loses a message.

// lockShards is how many lock sessions a store keeps. A key always maps to the same one, since
// only the session that took a lock can release it.
const lockShards = 4

// lockStatementTimeout bounds one lock statement. It runs without the caller's cancellation: a
// cancelled statement closes the connection, which would release every lock the session holds
// for other callers.
const lockStatementTimeout = 3 * time.Second

type lockSession struct {
	mu   sync.Mutex
	cfg  *pgx.ConnConfig
	conn *pgx.Conn
}

// try runs a boolean advisory-lock function for id on the session, reconnecting when needed.
func (l *lockSession) try(ctx context.Context, fn string, id int64) (bool, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lockStatementTimeout)
	defer cancel()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil || l.conn.IsClosed() {
		conn, err := pgx.ConnectConfig(ctx, l.cfg)
		if err != nil {
			return false, unavailable(fmt.Errorf("citizen lock: connect: %w", err))
		}
		l.conn = conn
	}
	var ok bool
	// fn is one of two constants below, never input.
	if err := l.conn.QueryRow(ctx, "SELECT "+fn+"($1)", id).Scan(&ok); err != nil {
		_ = l.conn.Close(ctx)
		l.conn = nil
		return false, unavailable(fmt.Errorf("citizen lock: %w", err))
	}
	return ok, nil
}

func (l *lockSession) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = l.conn.Close(ctx)
		l.conn = nil
	}
}

type citizenLocks struct {
	shards [lockShards]lockSession
}

func newCitizenLocks(cfg *pgx.ConnConfig) *citizenLocks {
	l := &citizenLocks{}
	for i := range l.shards {
		l.shards[i].cfg = cfg.Copy()
	}
	return l
}

func (l *citizenLocks) close() {
	for i := range l.shards {
		l.shards[i].close()
	}
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
	sess := &s.citizenLocks.shards[uint64(id)%lockShards]
	wait := lockPollMin
	for {
		ok, err := sess.try(ctx, "pg_try_advisory_lock", id)
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
		if _, err := sess.try(context.Background(), "pg_advisory_unlock", id); err != nil && !errors.Is(err, context.Canceled) {
			s.log.Warn("citizen lock not released cleanly; its session was closed", "error", err.Error())
		}
	}, nil
}
