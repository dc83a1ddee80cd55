package postgres_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/store/storetest"
)

// Two stores on one database stand for two replicas: a citizen's lock held by one makes the
// other wait until it is released, and only for that citizen.
func TestCitizenLockAcrossReplicas(t *testing.T) {
	a := openStore(t, storetest.Options())
	b := openOn(t, a.Pool().Config().ConnString(), storetest.Options())
	ctx := context.Background()

	unlock, err := a.LockCitizen(ctx, "wechat-1|openid|oCitizen")
	if err != nil {
		t.Fatal(err)
	}
	// Another citizen is not held up.
	other, err := b.LockCitizen(ctx, "wechat-1|openid|oSomeoneElse")
	if err != nil {
		t.Fatal(err)
	}
	other()

	got := make(chan time.Time, 1)
	go func() {
		u, err := b.LockCitizen(ctx, "wechat-1|openid|oCitizen")
		if err != nil {
			t.Error(err)
			close(got)
			return
		}
		got <- time.Now()
		u()
	}()
	select {
	case <-got:
		t.Fatal("the second replica took a lock the first holds")
	case <-time.After(150 * time.Millisecond):
	}
	released := time.Now()
	unlock()
	select {
	case at, ok := <-got:
		if !ok || at.Before(released) {
			t.Fatal("the second replica did not get the lock after release")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second replica never got the released lock")
	}

	// A waiter gives up with its context; the holder's lock is untouched by that.
	unlock, err = a.LockCitizen(ctx, "sms-1|phone|+8613800138000")
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := b.LockCitizen(short, "sms-1|phone|+8613800138000"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting past the deadline: %v", err)
	}
}

// Many goroutines on two replicas increment a counter under one citizen's lock with a read, a
// pause and a write: no increment is lost, so no two of them ever held the lock together.
func TestCitizenLockExcludesConcurrentHolders(t *testing.T) {
	a := openStore(t, storetest.Options())
	b := openOn(t, a.Pool().Config().ConnString(), storetest.Options())
	ctx := context.Background()
	var (
		counter int64
		inside  atomic.Int32
		wg      sync.WaitGroup
	)
	for i := range 20 {
		st := a
		if i%2 == 1 {
			st = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The conversation's in-process lock stands in front of the store's: one holder
			// per process and key at a time.
			unlock, err := st.LockCitizen(ctx, "k")
			if err != nil {
				t.Error(err)
				return
			}
			defer unlock()
			if inside.Add(1) != 1 {
				t.Error("two holders at once")
			}
			v := counter
			time.Sleep(2 * time.Millisecond)
			counter = v + 1
			inside.Add(-1)
		}()
		if i%2 == 1 {
			// Within one process, callers of the same key are serialised before the store.
			wg.Wait()
		}
	}
	wg.Wait()
	if counter != 20 {
		t.Fatalf("counter %d, want 20", counter)
	}
}
