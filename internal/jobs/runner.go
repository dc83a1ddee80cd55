package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
)

// Runner works the gateway's background jobs: a River client with workers and queues, on the
// database of the store that enqueues the jobs. The store has a client of its own that only
// inserts, in the same transaction as the rows a job refers to; the runner is built afterwards,
// from the workers, which themselves take the store. Nothing needs to be set after the fact.
type Runner struct {
	start         func(context.Context) error
	stop          func(context.Context) error
	stopAndCancel func(context.Context) error

	mu      sync.Mutex
	running bool
}

// NewRunner builds a runner on driver (riverpgxv5 or riversqlite over the store's database)
// with cfg's workers and queues.
func NewRunner[TTx any](driver riverdriver.Driver[TTx], cfg *river.Config) (*Runner, error) {
	client, err := river.NewClient(driver, cfg)
	if err != nil {
		return nil, fmt.Errorf("job runner: %w", err)
	}
	return &Runner{start: client.Start, stop: client.Stop, stopAndCancel: client.StopAndCancel}, nil
}

// Start starts fetching and working jobs.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.start(ctx); err != nil {
		return fmt.Errorf("start job runner: %w", err)
	}
	r.running = true
	return nil
}

// Stop stops fetching jobs at once and lets the running ones finish until ctx ends; then it
// cancels what is left (a cancelled job is retried later, by this or another process). It does
// nothing when the runner is not running.
func (r *Runner) Stop(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.running {
		return
	}
	r.running = false
	if err := r.stop(ctx); err != nil {
		cancelCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = r.stopAndCancel(cancelCtx)
	}
}

// pgxDriven and sqlDriven are the two stores: each gives River's driver over its database.
type (
	pgxDriven interface {
		JobDriver() riverdriver.Driver[pgx.Tx]
	}
	sqlDriven interface {
		JobDriver() riverdriver.Driver[*sql.Tx]
	}
)

// RunnerFor builds a runner on the database of st, a store that offers River's driver
// (store/postgres or store/sqlite).
func RunnerFor(st any, cfg *river.Config) (*Runner, error) {
	switch s := st.(type) {
	case pgxDriven:
		return NewRunner(s.JobDriver(), cfg)
	case sqlDriven:
		return NewRunner(s.JobDriver(), cfg)
	}
	return nil, fmt.Errorf("job runner: %T offers no River driver", st)
}
