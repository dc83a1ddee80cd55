package groupcommit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBatchesConcurrentCallersAndAnswersEachWithItsOwnOutcome(t *testing.T) {
	var commits atomic.Int64
	var maxSeen atomic.Int64
	release := make(chan struct{})
	b := New(func(ctx context.Context, reqs []int) ([]Outcome[int], error) {
		if commits.Add(1) == 1 {
			<-release // hold the first commit so that the others pile up behind it
		}
		if n := int64(len(reqs)); n > maxSeen.Load() {
			maxSeen.Store(n)
		}
		outs := make([]Outcome[int], len(reqs))
		for i, r := range reqs {
			outs[i] = Outcome[int]{Value: r * 10}
		}
		return outs, nil
	}, Options{Writers: 1, MaxBatch: 100})
	defer b.Close()

	var wg sync.WaitGroup
	results := make([]int, 50)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := b.Do(context.Background(), i)
			if err != nil {
				t.Errorf("Do(%d): %v", i, err)
			}
			results[i] = v
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	for i, v := range results {
		if v != i*10 {
			t.Fatalf("caller %d got %d, want %d", i, v, i*10)
		}
	}
	if commits.Load() >= 50 || maxSeen.Load() < 2 {
		t.Fatalf("expected batching: %d commits, largest batch %d", commits.Load(), maxSeen.Load())
	}
}

func TestFailedBatchIsRetriedOneByOneSoOnlyTheBadRequestFails(t *testing.T) {
	bad := errors.New("bad row")
	var calls atomic.Int64
	b := New(func(ctx context.Context, reqs []int) ([]Outcome[int], error) {
		calls.Add(1)
		for _, r := range reqs {
			if r == 3 {
				return nil, bad
			}
		}
		outs := make([]Outcome[int], len(reqs))
		for i, r := range reqs {
			outs[i] = Outcome[int]{Value: r}
		}
		return outs, nil
	}, Options{Writers: 1, MaxBatch: 10})
	defer b.Close()

	items := []*item[int, int]{}
	for i := range 5 {
		items = append(items, &item[int, int]{ctx: context.Background(), req: i, done: make(chan Outcome[int], 1)})
	}
	b.run(items)
	for i, it := range items {
		out := <-it.done
		if i == 3 {
			if !errors.Is(out.Err, bad) {
				t.Fatalf("request 3: err %v, want bad row", out.Err)
			}
			continue
		}
		if out.Err != nil || out.Value != i {
			t.Fatalf("request %d: %v %v", i, out.Value, out.Err)
		}
	}
	if calls.Load() != 6 {
		t.Fatalf("commit calls %d, want 1 batch + 5 singles", calls.Load())
	}
}

func TestOutageIsNotRetriedPerRequest(t *testing.T) {
	down := errors.New("connection refused")
	var calls atomic.Int64
	b := New(func(ctx context.Context, reqs []int) ([]Outcome[int], error) {
		calls.Add(1)
		return nil, down
	}, Options{Writers: 1, Isolate: func(err error) bool { return !errors.Is(err, down) }})
	defer b.Close()
	items := []*item[int, int]{}
	for i := range 4 {
		items = append(items, &item[int, int]{ctx: context.Background(), req: i, done: make(chan Outcome[int], 1)})
	}
	b.run(items)
	for _, it := range items {
		if out := <-it.done; !errors.Is(out.Err, down) {
			t.Fatalf("err %v, want outage", out.Err)
		}
	}
	if calls.Load() != 1 {
		t.Fatalf("commit calls %d, want 1", calls.Load())
	}
}

func TestCallerThatGaveUpIsNotCommitted(t *testing.T) {
	var seen []int
	b := New(func(ctx context.Context, reqs []int) ([]Outcome[int], error) {
		seen = append(seen, reqs...)
		return make([]Outcome[int], len(reqs)), nil
	}, Options{Writers: 1})
	defer b.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	gone := &item[int, int]{ctx: ctx, req: 1, done: make(chan Outcome[int], 1)}
	live := &item[int, int]{ctx: context.Background(), req: 2, done: make(chan Outcome[int], 1)}
	b.run([]*item[int, int]{gone, live})
	if out := <-gone.done; !errors.Is(out.Err, context.Canceled) {
		t.Fatalf("gone: %v", out.Err)
	}
	if len(seen) != 1 || seen[0] != 2 {
		t.Fatalf("committed %v, want [2]", seen)
	}
}

func TestDoAfterCloseFails(t *testing.T) {
	b := New(func(ctx context.Context, reqs []int) ([]Outcome[int], error) {
		return make([]Outcome[int], len(reqs)), nil
	}, Options{})
	b.Close()
	if _, err := b.Do(context.Background(), 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("err %v, want ErrClosed", err)
	}
}
