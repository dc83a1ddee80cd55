// Package coretest gives channel tests the gateway's real core — the conversation Receiver, the
// intake service and a store — on each kind of store, so that behaviour that lives in the store
// (request nonces, look-up lockouts, idempotency) is proven on PostgreSQL and SQLite alike.
//
// A package that uses it calls pgtest.DropTemplates from its TestMain, after m.Run.
package coretest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
	"github.com/hotline12345/intake-gateway/internal/replies"
	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/postgres"
	"github.com/hotline12345/intake-gateway/store/sqlite"
)

// Store kinds.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// ForEachStore runs fn as a subtest per store kind.
func ForEachStore(t *testing.T, fn func(t *testing.T, kind string)) {
	for _, kind := range []string{SQLite, Postgres} {
		t.Run(kind, func(t *testing.T) { fn(t, kind) })
	}
}

// Clock is a settable test clock.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts at now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now implements intake.Clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Core is one gateway's core on a fresh store.
type Core struct {
	Kind     string
	Store    intake.Store
	Receiver *app.Conversation
	clock    intake.Clock
	opts     app.ConversationOptions
	texts    *replies.Replies
	// second opens another handle on the same database (another process, for PostgreSQL).
	second func(t *testing.T) intake.Store
}

// Options are the store options the cores use.
func Options() store.Options {
	return store.Options{CaseNoPrefix: "WH", Location: time.FixedZone("CST", 8*3600)}
}

// New opens a core of the given kind. configure, when not nil, adjusts the Receiver's options
// (which start as the built-in defaults with clock).
func New(t *testing.T, kind string, clock intake.Clock, configure func(*app.ConversationOptions)) *Core {
	t.Helper()
	c := &Core{Kind: kind, clock: clock}
	switch kind {
	case SQLite:
		st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "intake.db"), Options: Options(), Clock: clock})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.Store = st
		// One process owns an SQLite file: a second replica shares the handle.
		c.second = func(*testing.T) intake.Store { return st }
	case Postgres:
		url := pgtest.NewDatabase(t, "coretest", func(ctx context.Context, url string) error {
			pool, err := pgxpool.New(ctx, url)
			if err != nil {
				return err
			}
			defer pool.Close()
			return postgres.Migrate(ctx, pool, nil)
		})
		open := func(t *testing.T) intake.Store {
			st, err := postgres.Open(context.Background(), postgres.Config{URL: url, Options: Options(), Clock: clock})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return st
		}
		c.Store, c.second = open(t), open
	default:
		t.Fatalf("unknown store kind %q", kind)
	}
	texts, err := replies.Parse(configs.Messages)
	if err != nil {
		t.Fatal(err)
	}
	c.texts = texts
	c.opts = app.ConversationOptions{Clock: clock, Location: time.FixedZone("CST", 8*3600)}
	if configure != nil {
		configure(&c.opts)
	}
	c.Receiver = c.receiver(t, c.Store)
	return c
}

// Replica is a second gateway on the same database: its own store handle (on PostgreSQL), intake
// service and Receiver, so nothing kept in one process's memory is shared with the first.
func (c *Core) Replica(t *testing.T) *app.Conversation {
	t.Helper()
	return c.receiver(t, c.second(t))
}

func (c *Core) receiver(t *testing.T, st intake.Store) *app.Conversation {
	t.Helper()
	svc := app.NewIntake(st, c.clock, app.IntakeOptions{MaxTextChars: 10000, MaxFutureSkew: 5 * time.Minute,
		Normalize: normalize.Options{PhoneRegion: "CN"}}, nil)
	r, err := app.NewConversation(st, svc, replies.NewCurrent(c.texts), c.opts)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Cases lists every stored case, newest first.
func (c *Core) Cases(t *testing.T) []*intake.Case {
	t.Helper()
	page, err := c.Store.ListCases(context.Background(), intake.CaseFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return page.Cases
}
