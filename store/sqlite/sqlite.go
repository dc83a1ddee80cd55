// Package sqlite is the embedded case store: one SQLite file (modernc.org/sqlite, pure Go), used
// when no database URL is configured, so that the gateway runs on a machine with nothing but the
// binary. River's job tables live in the same file.
//
// SQLite has one writer at a time. All case writes go through one group-commit writer, so they
// never wait on each other's locks; readers run concurrently thanks to WAL.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/groupcommit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite case store.
type Store struct {
	db *sql.DB
	// nonceDB is a second handle on the same file whose commits do not wait for the disk: the
	// request nonces are written for every webhook request (see ClaimNonce).
	nonceDB  *sql.DB
	river    *river.Client[*sql.Tx]
	opts     store.Options
	clock    intake.Clock
	batcher  *groupcommit.Batcher[intake.NewCase, intake.CreateResult]
	outcomes *groupcommit.Batcher[intake.DeliveryOutcome, struct{}]
	// nonces groups the replay guard's claims of concurrent webhook requests (ClaimNonce).
	nonces *groupcommit.Batcher[intake.NonceClaim, bool]
	log    *slog.Logger
	// workers are the job client's workers, stopped by Close once StartWorkers ran.
	// intake tells background work when new cases are being stored (IntakeBusy).
	activity store.IntakeActivity
	// tokenLocks serialise platform-token refreshes; one process owns an SQLite file, so locks
	// in memory are enough.
	tokenMu    sync.Mutex
	tokenLocks map[string]chan struct{}
	// janitor deletes expired request nonces and look-up counters.
	janitor *store.Janitor
}

// Config opens a Store.
type Config struct {
	Path    string
	Options store.Options
	Clock   intake.Clock
	Logger  *slog.Logger
	River   *river.Config
	// JobMiddleware runs around every job insert (tracing carries its context in the job).
	JobMiddleware []rivertype.Middleware
}

// DSN is the connection string for path. Pragmas are per connection, so they go in the DSN:
// WAL for concurrent readers, a busy timeout instead of immediate SQLITE_BUSY, foreign keys, and
// synchronous=FULL because an acknowledged case must survive a power cut, not only a crash.
// Transactions start IMMEDIATE so that a writer takes the lock up front instead of failing to
// upgrade a read lock half-way.
func DSN(path string) string { return dsn(path, "FULL") }

// nonceDSN is DSN for the handle that writes request nonces: synchronous=NORMAL, which in WAL
// mode commits without syncing the log (the next FULL commit of a case syncs it along). A power
// cut can lose the last nonces written, which only reopens the replay of those captured requests
// for the rest of their timestamp window; a sync per webhook request would instead serialise
// every request behind the disk.
func nonceDSN(path string) string { return dsn(path, "NORMAL") }

func dsn(path, synchronous string) string {
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous("+synchronous+")")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database file. It does not migrate; call Migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Path == "" {
		return nil, errors.New("sqlite: empty path")
	}
	if dir := filepath.Dir(cfg.Path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	db, err := sql.Open("sqlite", DSN(cfg.Path))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", cfg.Path, err)
	}
	// A few connections let reads run beside the single writer; more only add lock waits.
	db.SetMaxOpenConns(4)
	db.SetMaxIdleConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", cfg.Path, err)
	}
	nonceDB, err := sql.Open("sqlite", nonceDSN(cfg.Path))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", cfg.Path, err)
	}
	// SQLite has one writer at a time; a second nonce connection would only wait for the first.
	nonceDB.SetMaxOpenConns(1)
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// The store only inserts jobs (in the transactions that create what they refer to); the
	// gateway's job runner (jobs.Runner), built on the same database, works them.
	rc, err := river.NewClient(riversqlite.New(db), &river.Config{Logger: logger, Middleware: cfg.JobMiddleware})
	if err != nil {
		db.Close()
		nonceDB.Close()
		return nil, fmt.Errorf("river client: %w", err)
	}
	clock := cfg.Clock
	if clock == nil {
		clock = intake.SystemClock
	}
	s := &Store{db: db, nonceDB: nonceDB, river: rc, opts: cfg.Options.WithDefaults(), clock: clock, log: logger}
	// An outage (a busy timeout, a failing disk) fails a whole batch; asking again once per
	// member would only make every caller wait out the timeout once more.
	isolatable := func(err error) bool { return !store.IsOutage(err) }
	s.batcher = groupcommit.New(s.commitBatch, groupcommit.Options{Writers: 1, MaxBatch: s.opts.MaxBatch, Isolate: isolatable, Observe: s.opts.ObserveBatch, Trace: s.opts.TraceBatch})
	s.outcomes = groupcommit.New(s.commitOutcomes, groupcommit.Options{Writers: 1, MaxBatch: 256, Isolate: isolatable})
	s.nonces = groupcommit.New(s.claimNonces, groupcommit.Options{Writers: 1, MaxBatch: 256, Isolate: isolatable})
	s.janitor = store.StartJanitor(store.PruneInterval, clock, logger, s.PruneExpired)
	return s, nil
}

// DB exposes the handle to the gateway's wiring (River workers).
func (s *Store) DB() *sql.DB { return s.db }

// JobDriver is River's driver over the store's database, for the job runner that works the jobs
// this store inserts (jobs.NewRunner).
func (s *Store) JobDriver() riverdriver.Driver[*sql.Tx] { return riversqlite.New(s.db) }

// IntakeBusy reports whether a new case was being stored within the last quiet period:
// background work yields while it is, so that citizens are answered first.
func (s *Store) IntakeBusy(quiet time.Duration) bool {
	return s.activity.Busy(quiet)
}

// Close stops the writer and closes the database.
func (s *Store) Close() error {
	s.janitor.Stop()
	s.batcher.Close()
	s.outcomes.Close()
	s.nonces.Close()
	return errors.Join(s.nonceDB.Close(), s.db.Close())
}

func (s *Store) goose() (*goose.Provider, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("migrations fs: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.db, sub, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return nil, fmt.Errorf("goose provider: %w", err)
	}
	return p, nil
}

func (s *Store) riverMigrator() (*rivermigrate.Migrator[*sql.Tx], error) {
	m, err := rivermigrate.New(riversqlite.New(s.db), &rivermigrate.Config{Logger: s.log})
	if err != nil {
		return nil, fmt.Errorf("river migrator: %w", err)
	}
	return m, nil
}

// Migrate applies the gateway's and River's migrations. One process owns an SQLite file, so no
// cross-process lock is needed beyond SQLite's own.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.goose()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate gateway schema: %w", err)
	}
	m, err := s.riverMigrator()
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate river schema: %w", err)
	}
	return nil
}

// unavailable wraps an error as intake.ErrUnavailable when it is an outage (see store.IsOutage):
// a busy timeout behind another writer, a disk that failed or filled up.
func unavailable(err error) error { return store.Unavailable(err) }

// Ready checks the database answers and no migration is pending.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("%w: ping: %v", intake.ErrUnavailable, err)
	}
	p, err := s.goose()
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("check gateway migrations: %w", err)
	}
	if pending {
		return errors.New("gateway migrations pending")
	}
	m, err := s.riverMigrator()
	if err != nil {
		return err
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("check river migrations: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("river migrations pending: %v", res.Messages)
	}
	return nil
}
