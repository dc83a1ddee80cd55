package store

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
)

// LookupState is one key's failed status look-ups as the stores keep them.
type LookupState struct {
	Failures    int
	WindowStart time.Time
	// LockedUntil is the end of the key's lockout; zero when it was never locked.
	LockedUntil time.Time
}

// NextLookupState counts one more failure at at. A key's failures are counted from the first
// one of its window; once the window is over (or for a key never seen, whose state is zero) the
// count starts again. lockedNow reports that
// this failure locked the key (a key already locked is not locked again, so each lockout is
// reported, and logged, once).
func NextLookupState(cur LookupState, at time.Time, p intake.LookupPolicy) (next LookupState, lockedNow bool) {
	next = cur
	if at.Sub(cur.WindowStart) >= p.Window {
		next.Failures, next.WindowStart = 1, at
	} else {
		next.Failures++
	}
	if next.Failures >= p.Limit && !next.LockedUntil.After(at) {
		next.LockedUntil = at.Add(p.Lockout)
		lockedNow = true
	}
	return next, lockedNow
}

// Expires is when the state stops mattering: its window is over and any lockout has ended.
func (s LookupState) Expires(p intake.LookupPolicy) time.Time {
	end := s.WindowStart.Add(p.Window)
	if s.LockedUntil.After(end) {
		end = s.LockedUntil
	}
	return end
}

// CheckPolicy refuses a look-up policy that could never lock anything.
func CheckPolicy(p intake.LookupPolicy) error {
	if p.Limit < 1 || p.Window <= 0 || p.Lockout <= 0 {
		return fmt.Errorf("%w: look-up policy needs a limit, a window and a lockout, got %+v", intake.ErrInvalid, p)
	}
	return nil
}

// SupplementTooLong is the error for a supplement whose own text is over lim.MaxTextChars, as
// an over-long new case is refused; nil when it is not.
func SupplementTooLong(sup intake.Supplement) error {
	lim := sup.Limits.MaxTextChars
	if n := utf8.RuneCountInString(strings.TrimSpace(sup.Text)); lim > 0 && n > lim {
		return intake.Invalid("text", fmt.Sprintf("is %d characters long; the limit is %d", n, lim))
	}
	return nil
}

// CaseFull reports whether a case whose text would be text, with supplements supplements
// (this one included), breaks lim.
func CaseFull(text string, supplements int, lim intake.SupplementLimits) bool {
	return lim.MaxSupplements > 0 && supplements > lim.MaxSupplements ||
		lim.MaxCaseChars > 0 && utf8.RuneCountInString(text) > lim.MaxCaseChars
}

// PruneInterval is how often the stores delete expired request nonces and look-up counters.
const PruneInterval = time.Minute

// Janitor runs a store's pruning every PruneInterval until Stop.
type Janitor struct {
	stop, done chan struct{}
	once       sync.Once
}

// StartJanitor calls prune with the time now every interval. Failures are logged and tried again
// at the next tick: a late prune only lets the tables hold a little more for a while.
func StartJanitor(interval time.Duration, clock intake.Clock, logger *slog.Logger, prune func(ctx context.Context, before time.Time) (int64, error)) *Janitor {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	j := &Janitor{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(j.done)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-j.stop:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), interval)
				if _, err := prune(ctx, clock.Now()); err != nil {
					logger.Warn("prune expired request nonces and look-up counters", "error", err.Error())
				}
				cancel()
			}
		}
	}()
	return j
}

// Stop ends the janitor and waits for a prune in progress. Stopping twice is harmless: a store's
// Close may be called again.
func (j *Janitor) Stop() {
	j.once.Do(func() { close(j.stop) })
	<-j.done
}
