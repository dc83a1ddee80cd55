package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/riverqueue/river"
)

// IntakeActivity tracks the creation of new cases so that background work (forwarding a
// backlog) can yield while citizens are waiting for an answer: it is what a store's IntakeBusy
// reports. It measures wall-clock time, whatever clock the store stamps cases with.
type IntakeActivity struct {
	// creating counts creations in progress; last is when the latest began, in Unix ns.
	creating, last atomic.Int64
}

// Begin marks a creation in progress until the returned func is called.
func (a *IntakeActivity) Begin() (end func()) {
	a.creating.Add(1)
	a.last.Store(time.Now().UnixNano())
	return func() { a.creating.Add(-1) }
}

// Busy reports whether a creation is in progress or began less than quiet ago.
func (a *IntakeActivity) Busy(quiet time.Duration) bool {
	return a.creating.Load() > 0 || time.Since(time.Unix(0, a.last.Load())) < quiet
}

// JobWorkers starts a store's River workers and stops them before the store closes.
type JobWorkers[TTx any] struct {
	client  *river.Client[TTx]
	mu      sync.Mutex
	started bool
}

// NewJobWorkers wraps client, which must have been configured with Workers and Queues before
// Start is called.
func NewJobWorkers[TTx any](client *river.Client[TTx]) JobWorkers[TTx] {
	return JobWorkers[TTx]{client: client}
}

// Start starts the workers.
func (w *JobWorkers[TTx]) Start(ctx context.Context) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.client.Start(ctx); err != nil {
		return fmt.Errorf("start job workers: %w", err)
	}
	w.started = true
	return nil
}

// Stop stops fetching jobs at once and lets running jobs finish until ctx ends; then it cancels
// what is left (a cancelled job is retried later, by this or another process). It does nothing
// when the workers are not running.
func (w *JobWorkers[TTx]) Stop(ctx context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.started {
		return
	}
	w.started = false
	if err := w.client.Stop(ctx); err != nil {
		cancelCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = w.client.StopAndCancel(cancelCtx)
	}
}
