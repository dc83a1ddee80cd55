package wxapi

import (
	"context"
	"sync"
	"time"
)

// Token is an access_token and the moment WeChat said it expires.
type Token struct {
	Value     string
	ExpiresAt time.Time
}

// TokenStore keeps each account's access_token where every replica of the gateway sees it.
//
// WeChat allows one current token per AppID: fetching a new one retires the old one after about
// five minutes. Replicas that each fetched their own would keep invalidating each other, so the
// store is shared and refreshing is serialised by WithRefreshLock. A PostgreSQL implementation
// maps Load/Save/Invalidate to one row per app id and WithRefreshLock to pg_advisory_xact_lock in
// a transaction held while fn runs.
type TokenStore interface {
	// Load returns the stored token, or a zero Token when there is none.
	Load(ctx context.Context, appID string) (Token, error)
	// Save stores tok as the current token of appID.
	Save(ctx context.Context, appID string, tok Token) error
	// Invalidate forgets the token of appID if it is still stale. Comparing with the value that
	// WeChat rejected keeps a replica from discarding a fresh token another replica just saved.
	Invalidate(ctx context.Context, appID, stale string) error
	// WithRefreshLock runs fn while holding a lock that at most one caller per appID (across
	// processes, for shared stores) holds at a time. It returns fn's error, or ctx's when the lock
	// could not be had in time.
	WithRefreshLock(ctx context.Context, appID string, fn func(ctx context.Context) error) error
}

// MemoryTokenStore is a TokenStore for one process (tests, single-replica SQLite deployments).
type MemoryTokenStore struct {
	mu     sync.Mutex
	tokens map[string]Token
	locks  map[string]chan struct{}
}

// NewMemoryTokenStore returns an empty store.
func NewMemoryTokenStore() *MemoryTokenStore {
	return &MemoryTokenStore{tokens: map[string]Token{}, locks: map[string]chan struct{}{}}
}

// Load implements TokenStore.
func (m *MemoryTokenStore) Load(_ context.Context, appID string) (Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokens[appID], nil
}

// Save implements TokenStore.
func (m *MemoryTokenStore) Save(_ context.Context, appID string, tok Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[appID] = tok
	return nil
}

// Invalidate implements TokenStore.
func (m *MemoryTokenStore) Invalidate(_ context.Context, appID, stale string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tokens[appID].Value == stale {
		delete(m.tokens, appID)
	}
	return nil
}

// WithRefreshLock implements TokenStore. The lock is a one-slot channel so that waiting for it
// respects ctx, which a sync.Mutex cannot.
func (m *MemoryTokenStore) WithRefreshLock(ctx context.Context, appID string, fn func(context.Context) error) error {
	m.mu.Lock()
	l, ok := m.locks[appID]
	if !ok {
		l = make(chan struct{}, 1)
		m.locks[appID] = l
	}
	m.mu.Unlock()
	select {
	case l <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l }()
	return fn(ctx)
}
