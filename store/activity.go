package store

import (
	"sync/atomic"
	"time"
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
