package forward

import (
	"sync"
	"time"
)

// Breaker decides whether a case system is worth calling. Closed, every delivery goes through.
// After threshold consecutive failures it opens for a while (doubling each time up to a
// maximum); while open, deliveries wait instead of spending attempts. When the wait is over one
// delivery is let through as a probe: success closes the breaker, failure opens it again.
type Breaker struct {
	mu        sync.Mutex
	threshold int
	min, max  time.Duration
	failures  int
	openFor   time.Duration
	openUntil time.Time
	probing   bool
}

// NewBreaker returns a closed breaker.
func NewBreaker(threshold int, minOpen, maxOpen time.Duration) *Breaker {
	if threshold < 1 {
		threshold = 1
	}
	return &Breaker{threshold: threshold, min: minOpen, max: maxOpen, openFor: minOpen}
}

// Allow reports whether a delivery may be sent now, and otherwise how long to wait.
func (b *Breaker) Allow(now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.openUntil.IsZero() {
		return true, 0
	}
	if now.Before(b.openUntil) {
		return false, b.openUntil.Sub(now)
	}
	if b.probing {
		return false, b.min
	}
	b.probing = true
	return true, 0
}

// Success closes the breaker.
func (b *Breaker) Success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures, b.openUntil, b.probing, b.openFor = 0, time.Time{}, false, b.min
}

// Failure counts a failure; at the threshold, or when the probe fails, the breaker opens.
func (b *Breaker) Failure(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	if !b.probing && b.failures < b.threshold {
		return
	}
	b.openUntil = now.Add(b.openFor)
	b.openFor = min(b.openFor*2, b.max)
	b.probing = false
}

// Release gives back a probe that was not used (the delivery stopped before sending).
func (b *Breaker) Release() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
}

// IsOpen reports whether deliveries are being held back.
func (b *Breaker) IsOpen() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.openUntil.IsZero()
}
