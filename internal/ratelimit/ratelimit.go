// Package ratelimit keeps token buckets per key (an API key, a client address, a citizen) in
// memory, with a hard cap on how many keys it remembers, so that a caller who rotates keys can
// neither escape the limit by filling the table nor grow it without bound.
//
// The buckets live in one process: with several replicas behind a balancer each enforces its own,
// and the effective limit for a key is at most the per-replica limit times the replica count.
// The gateway therefore gives each replica its share of the configured limit
// (rate_limits.replicas, config.RateLimits.Share).
package ratelimit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a steady rate and the burst allowed on top of it. A zero Rate means no limit.
type Limit struct {
	// Rate is tokens per second.
	Rate float64
	// Burst is how many tokens a full bucket holds (at least 1 when Rate is set).
	Burst int
}

// Enabled reports whether the limit restricts anything.
func (l Limit) Enabled() bool { return l.Rate > 0 }

// Keyed holds one bucket per key.
type Keyed struct {
	limit   Limit
	maxKeys int
	now     func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
	// idle is how long a bucket may go unused before it is full again and can be forgotten.
	idle      time.Duration
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

// DefaultMaxKeys bounds the keys a Keyed remembers when the caller gives no bound.
const DefaultMaxKeys = 100_000

// New returns a set of buckets with limit for every key, remembering at most maxKeys keys
// (DefaultMaxKeys when maxKeys <= 0). now may be nil (the wall clock).
func New(limit Limit, maxKeys int, now func() time.Time) *Keyed {
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	if now == nil {
		now = time.Now
	}
	if limit.Burst < 1 {
		limit.Burst = 1
	}
	idle := time.Second
	if limit.Rate > 0 {
		idle = time.Duration(math.Ceil(float64(limit.Burst)/limit.Rate*float64(time.Second))) + time.Second
	}
	return &Keyed{limit: limit, maxKeys: maxKeys, now: now, buckets: map[string]*bucket{}, idle: idle}
}

// Allow takes one token from key's bucket. When there is none it returns false and how long
// until one will be there (for Retry-After).
func (k *Keyed) Allow(key string) (ok bool, retryAfter time.Duration) {
	if k == nil || !k.limit.Enabled() {
		return true, 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b := k.bucketLocked(key, now)
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, k.idle
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Exhausted reports whether key's bucket is empty now, without taking a token: for limits that
// count failures (taken with Allow after the fact) and refuse while the count is spent.
func (k *Keyed) Exhausted(key string) (bool, time.Duration) {
	if k == nil || !k.limit.Enabled() {
		return false, 0
	}
	now := k.now()
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.buckets[key]
	if !ok {
		return false, 0
	}
	if tokens := b.lim.TokensAt(now); tokens < 1 {
		return true, time.Duration((1 - tokens) / k.limit.Rate * float64(time.Second))
	}
	return false, 0
}

// Len is the number of keys remembered.
func (k *Keyed) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}

func (k *Keyed) bucketLocked(key string, now time.Time) *bucket {
	if b, ok := k.buckets[key]; ok {
		b.used = now
		return b
	}
	if len(k.buckets) >= k.maxKeys || now.Sub(k.lastSweep) > k.idle {
		k.sweepLocked(now)
	}
	if len(k.buckets) >= k.maxKeys {
		// Every remembered key was used within the refill time: forgetting one would hand its
		// owner a full bucket. New keys share one overflow bucket instead, so rotating keys buys
		// an attacker nothing beyond it.
		key = overflowKey
		if b, ok := k.buckets[key]; ok {
			b.used = now
			return b
		}
	}
	b := &bucket{lim: rate.NewLimiter(rate.Limit(k.limit.Rate), k.limit.Burst), used: now}
	b.lim.SetBurstAt(now, k.limit.Burst)
	k.buckets[key] = b
	return b
}

// overflowKey cannot collide with a caller's key: callers' keys are never empty-prefixed NULs.
const overflowKey = "\x00overflow"

// sweepLocked forgets buckets unused for longer than it takes them to fill up again: a fresh
// bucket would be the same.
func (k *Keyed) sweepLocked(now time.Time) {
	for key, b := range k.buckets {
		if now.Sub(b.used) > k.idle {
			delete(k.buckets, key)
		}
	}
	k.lastSweep = now
}
