package store_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/store"
)

// A store's Close may run twice (a test's restart, then its cleanup); its janitor must allow it.
func TestJanitorStopsOnceAndPrunes(t *testing.T) {
	var calls atomic.Int32
	j := store.StartJanitor(time.Millisecond, intake.SystemClock, nil, func(context.Context, time.Time) (int64, error) {
		calls.Add(1)
		return 0, nil
	})
	for calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	j.Stop()
	j.Stop()
}

func TestNextLookupState(t *testing.T) {
	p := intake.LookupPolicy{Limit: 3, Window: time.Minute, Lockout: 10 * time.Minute}
	t0 := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	var s store.LookupState
	var locked bool
	for i := range 3 {
		s, locked = store.NextLookupState(s, t0.Add(time.Duration(i)*time.Second), p)
		if locked != (i == 2) {
			t.Fatalf("failure %d: locked=%v", i+1, locked)
		}
	}
	if !s.LockedUntil.Equal(t0.Add(2*time.Second + 10*time.Minute)) {
		t.Fatalf("locked until %v", s.LockedUntil)
	}
	if s, locked = store.NextLookupState(s, t0.Add(3*time.Second), p); locked {
		t.Fatal("a locked key was locked again")
	}
	if got := s.Expires(p); !got.Equal(s.LockedUntil) {
		t.Fatalf("expires %v, want the end of the lockout", got)
	}
	// After the window the count starts again.
	if s, _ = store.NextLookupState(s, t0.Add(2*time.Minute), p); s.Failures != 1 || !s.WindowStart.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("after the window: %+v", s)
	}
}
