package forward

import "sync"

// Breaker decides whether a case system counts as down: after threshold consecutive failures it
// opens, and it stays open until a probe gets through (Success). While it is open the worker
// pauses the system's queue and probes it; see Worker.probe.
type Breaker struct {
	mu        sync.Mutex
	threshold int
	failures  int
	open      bool
	probing   bool
}

// NewBreaker returns a closed breaker.
func NewBreaker(threshold int) *Breaker {
	if threshold < 1 {
		threshold = 1
	}
	return &Breaker{threshold: threshold}
}

// Success closes the breaker.
func (b *Breaker) Success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures, b.open, b.probing = 0, false, false
}

// Failure counts a failure and reports whether it opened the breaker.
func (b *Breaker) Failure() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures++
	if b.open {
		return false
	}
	if b.failures >= b.threshold {
		b.open = true
		return true
	}
	return false
}

// Trip opens the breaker (the queue was found paused by another process).
func (b *Breaker) Trip() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.open = true
}

// Probe lets one request through an open breaker: the prober's.
func (b *Breaker) Probe() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = true
}

// IsOpen reports whether deliveries are held back (a probe in flight is let through).
func (b *Breaker) IsOpen() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.open && !b.probing
}

// EndProbe ends the probe's pass.
func (b *Breaker) EndProbe() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.probing = false
}
