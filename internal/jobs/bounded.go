package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// A job whose process dies (kill -9, a crashed host) stays "running" in River's table until
// River's rescuer declares it stuck, by default after an hour: its delivery waits that long.
// Bounding every job lets the rescuer step in soon after the job could still be running.

// RescueMargin is how long after its bound a job still counts as running: enough for a job
// whose context just ended to return and for River to record that.
const RescueMargin = 5 * time.Second

// Bounds of the jobs whose duration is not set by configuration. A notification may send twice
// (its channel, then the SMS fallback) and refresh a platform token first; a media fetch
// downloads up to tens of megabytes with a one-minute HTTP timeout, then stores the copy.
// A retention sweep works in batches and keeps its progress after each: one run stops at its
// bound and the next continues.
const (
	NotifyBound    = time.Minute
	MediaBound     = 2 * time.Minute
	RetentionBound = 10 * time.Minute
)

// Bounded runs a worker's jobs under a time bound. River is told the bound plus RescueMargin as
// the job's timeout, which is also when its rescuer may retry a job left running by a process
// that died. The wrapped worker's other settings (retry policy, middleware) stay its own.
type Bounded[T river.JobArgs] struct {
	river.Worker[T]
	Bound time.Duration
}

// Bound wraps w so that each of its jobs runs for at most bound.
func Bound[T river.JobArgs](w river.Worker[T], bound time.Duration) *Bounded[T] {
	return &Bounded[T]{Worker: w, Bound: bound}
}

// Work runs the job with a context that ends after the bound.
func (b *Bounded[T]) Work(ctx context.Context, job *river.Job[T]) error {
	ctx, cancel := context.WithTimeout(ctx, b.Bound)
	defer cancel()
	return b.Worker.Work(ctx, job)
}

// Timeout is the bound plus RescueMargin.
func (b *Bounded[T]) Timeout(*river.Job[T]) time.Duration { return b.Bound + RescueMargin }

// RescueAfter is River's RescueStuckJobsAfter for workers with these bounds: the shortest bound
// plus RescueMargin. A job of a kind with a longer bound is rescued only once its own timeout
// has passed too (River asks each kind's Timeout), so every queue keeps its own bound.
func RescueAfter(bounds ...time.Duration) time.Duration {
	shortest := time.Duration(0)
	for _, b := range bounds {
		if shortest == 0 || b < shortest {
			shortest = b
		}
	}
	return shortest + RescueMargin
}
