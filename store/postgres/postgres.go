// Package postgres is the production case store: PostgreSQL through a pgx pool, with River's job
// tables in the same database so that a case and its forwarding job commit together.
//
// Concurrent CreateCase calls are group-committed (see store/groupcommit): a few writer
// transactions each carry many cases, which is what lets one PostgreSQL on modest hardware accept
// several thousand durable cases a second.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/groupcommit"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLockID serialises goose and River migrations across replicas starting at once.
const migrationLockID = 0x1234_5000_0001

// Store is the PostgreSQL case store.
type Store struct {
	pool    *pgxpool.Pool
	river   *river.Client[pgx.Tx]
	opts    store.Options
	clock   intake.Clock
	batcher *groupcommit.Batcher[intake.NewCase, intake.CreateResult]
	// outcomes group-commits forwarding results, which arrive as fast as cases are forwarded.
	outcomes *groupcommit.Batcher[intake.DeliveryOutcome, struct{}]
	// contexts groups the look-ups of concurrent channel messages (MessageContext).
	contexts *groupcommit.Batcher[intake.MessageQuery, intake.MessageContext]
	// nonces groups the replay guard's claims of concurrent webhook requests (ClaimNonce).
	nonces *groupcommit.Batcher[intake.NonceClaim, bool]
	log    *slog.Logger
	// workers are the job client's workers, stopped by Close once StartWorkers ran.
	// intake tells background work when new cases are being stored (IntakeBusy).
	activity store.IntakeActivity
	// janitor deletes expired request nonces and look-up counters.
	janitor *store.Janitor
	// citizenLocks serialise one citizen's messages across replicas (LockCitizen).
	citizenLocks *citizenLocks
}

// Config opens a Store.
type Config struct {
	URL     string
	Options store.Options
	Clock   intake.Clock
	Logger  *slog.Logger
	// MaxConns sizes the pool; zero leaves pgx's default.
	MaxConns int32
	// QueryTracer, when set, traces every query (cmd passes OpenTelemetry's).
	QueryTracer pgx.QueryTracer
	// JobMiddleware runs around every job insert (tracing carries its context in the job).
	JobMiddleware []rivertype.Middleware
}

// Open connects to PostgreSQL. It does not migrate; call Migrate.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	pcfg, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	// pgx's default (4 on this kind of machine) lets a hundred forwarding workers hold every
	// connection while new cases wait for one.
	pcfg.MaxConns = 20
	if cfg.MaxConns > 0 {
		pcfg.MaxConns = cfg.MaxConns
	}
	// Connections opened at start, not by the first citizens: opening one (and preparing its
	// statements) costs tens of milliseconds, which the first second of traffic would wait for.
	// pool_min_conns in the URL overrides.
	if pcfg.MinConns == 0 {
		pcfg.MinConns = min(4, pcfg.MaxConns)
	}
	withoutJIT(pcfg.ConnConfig.RuntimeParams)
	if cfg.QueryTracer != nil {
		pcfg.ConnConfig.Tracer = cfg.QueryTracer
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	s, err := New(pool, cfg)
	if err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// withoutJIT turns PostgreSQL's JIT compilation off for the gateway's sessions unless the
// operator's URL sets jit itself (jit=on, or -c jit=... in options). The gateway runs short
// statements that touch a handful of rows by index; once its tables are large the planner can
// still cost one of them above jit_above_cost, and compiling it then takes ~10 ms on every
// execution for under a millisecond of work (measured: a gateway restarted on ~950,000 cases
// took 171-192 submissions/s with JIT, 2,667/s without).
func withoutJIT(params map[string]string) {
	if _, set := params["jit"]; set || strings.Contains(params["options"], "jit") {
		return
	}
	params["jit"] = "off"
}

// New wraps an existing pool.
func New(pool *pgxpool.Pool, cfg Config) (*Store, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// The store only inserts jobs (in the transactions that create what they refer to); the
	// gateway's job runner (jobs.Runner), built on the same database, works them.
	rc, err := river.NewClient(riverpgxv5.New(pool), &river.Config{Logger: logger, Middleware: cfg.JobMiddleware})
	if err != nil {
		return nil, fmt.Errorf("river client: %w", err)
	}
	clock := cfg.Clock
	if clock == nil {
		clock = intake.SystemClock
	}
	s := &Store{pool: pool, river: rc, opts: cfg.Options.WithDefaults(), clock: clock, log: logger,
		citizenLocks: newCitizenLocks(pool.Config().ConnConfig)}
	s.batcher = groupcommit.New(s.commitBatch, groupcommit.Options{
		Writers:  s.opts.Writers,
		MaxBatch: s.opts.MaxBatch,
		Isolate:  isolatable,
		Observe:  s.opts.ObserveBatch,
		Trace:    s.opts.TraceBatch,
	})
	s.outcomes = groupcommit.New(s.commitOutcomes, groupcommit.Options{Writers: 2, MaxBatch: 256, Isolate: isolatable})
	s.contexts = groupcommit.New(s.readContexts, groupcommit.Options{Writers: 2, MaxBatch: 64, Isolate: isolatable})
	s.nonces = groupcommit.New(s.claimNonces, groupcommit.Options{Writers: 2, MaxBatch: 64, Isolate: isolatable})
	s.janitor = store.StartJanitor(store.PruneInterval, clock, logger, s.PruneExpired)
	return s, nil
}

// Pool exposes the pool to the gateway's wiring (River workers, readiness).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// JobDriver is River's driver over the store's pool, for the job runner that works the jobs
// this store inserts (jobs.NewRunner).
func (s *Store) JobDriver() riverdriver.Driver[pgx.Tx] { return riverpgxv5.New(s.pool) }

// IntakeBusy reports whether a new case was being stored within the last quiet period:
// background work yields while it is, so that citizens are answered first.
func (s *Store) IntakeBusy(quiet time.Duration) bool {
	return s.activity.Busy(quiet)
}

// Close stops the writers and closes the pool.
func (s *Store) Close() error {
	s.janitor.Stop()
	s.batcher.Close()
	s.outcomes.Close()
	s.contexts.Close()
	s.nonces.Close()
	s.citizenLocks.close()
	s.pool.Close()
	return nil
}

// Migrate applies the gateway's and River's migrations under an advisory lock, so that several
// replicas starting together migrate once.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate: acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(migrationLockID)); err != nil {
		return fmt.Errorf("migrate: take lock: %w", err)
	}
	defer func() {
		// A fresh context: the lock must be released even when ctx has ended.
		unlockCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = conn.Exec(unlockCtx, "SELECT pg_advisory_unlock($1)", int64(migrationLockID))
	}()

	provider, db, err := gooseProvider(pool)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := provider.Up(ctx); err != nil {
		return fmt.Errorf("migrate gateway schema: %w", err)
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: quiet(logger)})
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate river schema: %w", err)
	}
	return refreshStatistics(ctx, conn.Conn(), logger)
}

// intakeTables are the tables the intake path reads by key on every submission.
var intakeTables = []string{"cases", "case_status_history", "case_messages", "citizen_locations", "deliveries"}

// refreshStatistics analyzes the intake tables whose planner statistics are missing or stale,
// as autovacuum would have if it ran. Without statistics PostgreSQL assumes 200 distinct values
// per column: on a store of a million cases it then expects thousands of status-history rows per
// case where there are one or two, costs every case read far above what it is, and plans
// accordingly. A store restored from a dump, or one whose autovacuum is off or behind, is in
// that state when a gateway starts on it; analyzing samples a few tens of thousands of rows per
// table (about a second on a million cases) and happens here, under the migration lock, once.
func refreshStatistics(ctx context.Context, conn *pgx.Conn, logger *slog.Logger) error {
	// Stale by autovacuum's own trigger: more rows changed since the last analyze than 50 plus
	// autovacuum_analyze_scale_factor of the table (a table never analyzed counts all its rows).
	// Missing: a table with rows but no statistics at all, as pg_restore leaves it.
	rows, err := conn.Query(ctx, `SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
		WHERE s.schemaname = current_schema() AND s.relname = ANY($1)
		  AND (s.n_mod_since_analyze > 50 + current_setting('autovacuum_analyze_scale_factor')::float8 * greatest(c.reltuples, 0)
		       OR ((c.relpages > 0 OR s.n_live_tup > 0)
		           AND NOT EXISTS (SELECT 1 FROM pg_stats p WHERE p.schemaname = s.schemaname AND p.tablename = s.relname)))`, intakeTables)
	if err != nil {
		return fmt.Errorf("check planner statistics: %w", err)
	}
	stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("check planner statistics: %w", err)
	}
	for _, table := range stale {
		start := time.Now()
		if _, err := conn.Exec(ctx, "ANALYZE "+pgx.Identifier{table}.Sanitize()); err != nil {
			return fmt.Errorf("analyze %s: %w", table, err)
		}
		quiet(logger).Info("planner statistics were missing or stale; table analyzed", "table", table, "took", time.Since(start).String())
	}
	return nil
}

// Migrate applies migrations on this store's pool.
func (s *Store) Migrate(ctx context.Context) error { return Migrate(ctx, s.pool, s.log) }

func gooseProvider(pool *pgxpool.Pool) (*goose.Provider, *sql.DB, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, nil, fmt.Errorf("migrations fs: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, nil, fmt.Errorf("goose locker: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, db, sub, goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("goose provider: %w", err)
	}
	return p, db, nil
}

func quiet(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// Ready checks the connection and that no migration is pending.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		return fmt.Errorf("%w: ping: %v", intake.ErrUnavailable, err)
	}
	provider, db, err := gooseProvider(s.pool)
	if err != nil {
		return err
	}
	defer db.Close()
	pending, err := provider.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("check gateway migrations: %w", err)
	}
	if pending {
		return errors.New("gateway migrations pending")
	}
	migrator, err := rivermigrate.New(riverpgxv5.New(s.pool), &rivermigrate.Config{Logger: quiet(s.log)})
	if err != nil {
		return fmt.Errorf("river migrator: %w", err)
	}
	res, err := migrator.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("check river migrations: %w", err)
	}
	if !res.OK {
		return fmt.Errorf("river migrations pending: %v", res.Messages)
	}
	return nil
}

// isolatable reports whether a failed batch could be the fault of one member (a constraint or
// data error) rather than of the database as a whole; an outage is never retried member by member.
func isolatable(err error) bool { return !store.IsOutage(err) }

// unavailable wraps an error as intake.ErrUnavailable when it is an outage (see store.IsOutage).
func unavailable(err error) error { return store.Unavailable(err) }
