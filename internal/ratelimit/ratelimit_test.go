package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestBurstThenRefusedThenRefilled(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)}
	k := New(Limit{Rate: 2, Burst: 3}, 0, clk.now)
	for i := range 3 {
		if ok, _ := k.Allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, retry := k.Allow("a")
	if ok {
		t.Fatal("fourth request within the burst allowed")
	}
	if retry <= 0 || retry > time.Second {
		t.Fatalf("retry after %v, want (0, 500ms]", retry)
	}
	if ok, _ := k.Allow("b"); !ok {
		t.Fatal("another key shares the first key's bucket")
	}
	clk.advance(retry)
	if ok, _ := k.Allow("a"); !ok {
		t.Fatal("not allowed after the advertised Retry-After")
	}
	if ok, _ := k.Allow("a"); ok {
		t.Fatal("refilled more than one token in 500ms at 2/s")
	}
}

func TestDisabledLimitAllowsEverything(t *testing.T) {
	k := New(Limit{}, 0, nil)
	for range 1000 {
		if ok, _ := k.Allow("x"); !ok {
			t.Fatal("a zero limit refused")
		}
	}
	if k.Len() != 0 {
		t.Fatal("a disabled limit remembered keys")
	}
	var nilSet *Keyed
	if ok, _ := nilSet.Allow("x"); !ok {
		t.Fatal("nil set refused")
	}
}

func TestRotatingKeysCannotGrowTheTableOrEscapeTheLimit(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)}
	k := New(Limit{Rate: 1, Burst: 2}, 100, clk.now)
	allowed := 0
	for i := range 10_000 {
		if ok, _ := k.Allow(fmt.Sprintf("attacker-%d", i)); ok {
			allowed++
		}
	}
	if k.Len() > 101 {
		t.Fatalf("remembered %d keys, cap 100 (+1 overflow)", k.Len())
	}
	// Each of the first 100 keys is used once; the other 9,900 share the overflow bucket of 2.
	if allowed != 102 {
		t.Fatalf("allowed %d requests for 10,000 rotating keys, want 102", allowed)
	}
	// Once the buckets have refilled they are forgotten, and the table takes new keys again.
	clk.advance(10 * time.Second)
	if ok, _ := k.Allow("newcomer"); !ok {
		t.Fatal("a new key after the idle time was refused")
	}
	if k.Len() != 1 {
		t.Fatalf("idle buckets not swept: %d keys", k.Len())
	}
}

func TestExhaustedCountsFailuresWithoutTakingTokens(t *testing.T) {
	clk := &fakeClock{t: time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)}
	k := New(Limit{Rate: 0.1, Burst: 3}, 0, clk.now)
	for range 5 {
		if done, _ := k.Exhausted("ip"); done {
			t.Fatal("exhausted before any failure")
		}
	}
	for range 3 {
		k.Allow("ip") // three failures
	}
	done, retry := k.Exhausted("ip")
	if !done || retry <= 0 || retry > 10*time.Second {
		t.Fatalf("after 3 failures: exhausted=%v retry=%v", done, retry)
	}
	clk.advance(retry)
	if done, _ := k.Exhausted("ip"); done {
		t.Fatal("still exhausted after the retry time")
	}
}
