package app

import (
	"crypto/subtle"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiterSet keeps one token bucket per citizen. Buckets idle longer than it takes to refill are
// dropped, so the set stays as small as the number of citizens querying right now.
type limiterSet struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	buckets map[string]*bucket
	sweep   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiterSet(every rate.Limit, burst int) *limiterSet {
	return &limiterSet{every: every, burst: burst, buckets: map[string]*bucket{}}
}

func (l *limiterSet) allow(key string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	refill := time.Duration(float64(l.burst) / float64(l.every) * float64(time.Second))
	if now.Sub(l.sweep) > refill {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > refill {
				delete(l.buckets, k)
			}
		}
		l.sweep = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

func constantTimeEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
