package wechat

import (
	"context"
	"time"

	"github.com/hotline12345/intake-gateway/channels/wechat/wxapi"
)

// Tokens is what the channel needs of the case store to share access tokens: both stores keep
// them in the database, so that every replica uses the same token instead of invalidating each
// other's.
type Tokens interface {
	// LoadToken returns the stored token; an empty value when there is none.
	LoadToken(ctx context.Context, key string) (value string, expiresAt time.Time, err error)
	SaveToken(ctx context.Context, key, value string, expiresAt time.Time) error
	// InvalidateToken forgets the token only while it is still the stale one.
	InvalidateToken(ctx context.Context, key, stale string) error
	// WithTokenLock runs fn while no other caller, in any process, holds the lock for key.
	WithTokenLock(ctx context.Context, key string, fn func(ctx context.Context) error) error
}

// StoreTokens keeps access tokens in the case store, so that every replica of the gateway uses
// the same token and only one refreshes it at a time (on PostgreSQL an advisory lock).
type StoreTokens struct {
	Tokens Tokens
}

var _ wxapi.TokenStore = StoreTokens{}

func tokenKey(appID string) string { return "wechat:" + appID }

// Load returns the stored token.
func (s StoreTokens) Load(ctx context.Context, appID string) (wxapi.Token, error) {
	v, exp, err := s.Tokens.LoadToken(ctx, tokenKey(appID))
	return wxapi.Token{Value: v, ExpiresAt: exp}, err
}

// Save stores the current token.
func (s StoreTokens) Save(ctx context.Context, appID string, tok wxapi.Token) error {
	return s.Tokens.SaveToken(ctx, tokenKey(appID), tok.Value, tok.ExpiresAt)
}

// Invalidate forgets a rejected token unless another replica replaced it already.
func (s StoreTokens) Invalidate(ctx context.Context, appID, stale string) error {
	return s.Tokens.InvalidateToken(ctx, tokenKey(appID), stale)
}

// WithRefreshLock serialises refreshes across replicas.
func (s StoreTokens) WithRefreshLock(ctx context.Context, appID string, fn func(ctx context.Context) error) error {
	return s.Tokens.WithTokenLock(ctx, tokenKey(appID), fn)
}
