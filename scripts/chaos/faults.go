package main

import (
	"context"
	"fmt"
	"log"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// faultResult is one line of the fault table.
type faultResult struct {
	Name string
	tally
	Attempts, GaveUp int
	Statuses         map[string]int
	// IntakeBack: from the moment the fault was cleared to the first acknowledgement after it.
	// Recovery: from that moment until every acknowledged case had reached the case system.
	IntakeBack, Recovery time.Duration
	AckedAfter           bool // something was acknowledged after the fault was cleared
	Complete             bool // every acknowledged case delivered before the deadline
	Notes                []string
	Err                  error
}

func (r faultResult) failed() bool {
	return r.Err != nil || r.Lost > 0 || r.CrossKey > 0 || !r.Complete || r.Acked == 0
}

// fault is one injected failure: inject runs while load (from l) is applied, returns once the
// fault is cleared (with the time it was), and may add notes, also from work it leaves running.
type fault struct {
	name string
	// slow: the case system takes up to 3 s per delivery while the fault's load runs, so that
	// deliveries are in flight at any moment.
	slow   bool
	inject func(ctx context.Context, s *suite, l *loader, notes *notebook) (time.Time, error)
}

// notebook collects a fault's notes, some written by watchers that outlive inject; lines waits
// for those.
type notebook struct {
	mu    sync.Mutex
	notes []string
	wg    sync.WaitGroup
}

func (n *notebook) add(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.notes = append(n.notes, fmt.Sprintf(format, args...))
}

// slot keeps a note's place for work that finishes later, so that notes read in the order of
// the events they are about, not of their ends.
func (n *notebook) slot() func(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	i := len(n.notes)
	n.notes = append(n.notes, "")
	return func(format string, args ...any) {
		n.mu.Lock()
		defer n.mu.Unlock()
		n.notes[i] = fmt.Sprintf(format, args...)
	}
}

// later runs f beside the fault; lines waits for it.
func (n *notebook) later(f func()) {
	n.wg.Add(1)
	go func() { defer n.wg.Done(); f() }()
}

func (n *notebook) lines() []string {
	n.wg.Wait()
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.notes...)
}

// watchRecovery notes, from the moment of a kill, how long until every case acknowledged before
// it was stored and delivered (the deadline: the suite's DeliverDeadline).
func (s *suite) watchRecovery(ctx context.Context, label string, killed time.Time, acks []ack, notes *notebook) {
	note := notes.slot()
	notes.later(func() {
		ctx, cancel := context.WithDeadline(ctx, killed.Add(s.d.DeliverDeadline))
		defer cancel()
		for ctx.Err() == nil {
			if t, err := s.tally(ctx, acks); err == nil && t.Lost == 0 {
				note("%s: its %d earlier acknowledgements all stored and delivered %s after the kill", label, t.Acked, time.Since(killed).Round(100*time.Millisecond))
				return
			}
			_ = sleep(ctx, 250*time.Millisecond)
		}
		note("%s: earlier acknowledgements not all delivered within %s", label, s.d.DeliverDeadline)
	})
}

func faults(d durations) []fault {
	return []fault{
		{"kill -9 ×3", false, func(ctx context.Context, s *suite, l *loader, notes *notebook) (time.Time, error) {
			var cleared time.Time
			for i := range 3 {
				if err := sleep(ctx, d.KillEvery); err != nil {
					return time.Time{}, err
				}
				s.gw.stop(syscall.SIGKILL)
				t0 := time.Now()
				acks, _, _, _ := l.snapshot()
				s.watchRecovery(ctx, fmt.Sprintf("kill %d", i+1), t0, acks, notes)
				// Started again at once, as systemd's Restart=always or a container runtime does.
				if err := s.gw.start(ctx); err != nil {
					return time.Time{}, fmt.Errorf("restart after kill %d: %w", i+1, err)
				}
				cleared = time.Now()
				notes.add("kill %d: ready again after %s", i+1, cleared.Sub(t0).Round(10*time.Millisecond))
			}
			return cleared, nil
		}},
		{fmt.Sprintf("PostgreSQL stopped %s", d.PGStop), false, func(ctx context.Context, s *suite, _ *loader, notes *notebook) (time.Time, error) {
			if err := s.cl.stopImmediate(); err != nil {
				return time.Time{}, err
			}
			if err := sleep(ctx, d.PGStop); err != nil {
				return time.Time{}, err
			}
			if err := s.cl.start(ctx); err != nil {
				return time.Time{}, err
			}
			cleared := time.Now()
			if s.gw.p.exited() {
				notes.add("the gateway exited during the outage; started again")
				if err := s.gw.start(ctx); err != nil {
					return time.Time{}, err
				}
			}
			return cleared, nil
		}},
		{fmt.Sprintf("case system 5xx %s, hang %s", d.CSFail, d.CSHang), false, func(ctx context.Context, s *suite, _ *loader, notes *notebook) (time.Time, error) {
			if err := s.cs.setMode("fail"); err != nil {
				return time.Time{}, err
			}
			if err := sleep(ctx, d.CSFail); err != nil {
				return time.Time{}, err
			}
			if err := s.cs.setMode("hang"); err != nil {
				return time.Time{}, err
			}
			if err := sleep(ctx, d.CSHang); err != nil {
				return time.Time{}, err
			}
			return time.Now(), s.cs.setMode("normal")
		}},
		{"restart, deliveries in flight", true, func(ctx context.Context, s *suite, _ *loader, notes *notebook) (time.Time, error) {
			if n, err := s.runningJobs(ctx); err == nil {
				notes.add("%d delivery jobs running at SIGTERM", n)
			}
			t0 := time.Now()
			s.gw.stop(syscall.SIGTERM)
			stopped := time.Now()
			if err := s.gw.start(ctx); err != nil {
				return time.Time{}, err
			}
			notes.add("graceful stop took %s, start %s",
				stopped.Sub(t0).Round(10*time.Millisecond), time.Since(stopped).Round(10*time.Millisecond))
			return time.Now(), nil
		}},
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// runningJobs counts River jobs being worked now (deliveries and notifications).
func (s *suite) runningJobs(ctx context.Context) (int, error) {
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, "SELECT count(*) FROM river_job WHERE state = 'running'").Scan(&n)
	return n, err
}

// runFault applies load, injects f, keeps the load on a while after it is cleared, then waits
// for every acknowledged case to reach the case system and reconciles.
func (s *suite) runFault(ctx context.Context, i int, f fault) (res faultResult) {
	res = faultResult{Name: f.name}
	var notes notebook
	// The notes of inject and of the watchers it started come first, whatever way this returns.
	defer func() { res.Notes = append(notes.lines(), res.Notes...) }()
	log.Printf("fault %d: %s", i+1, f.name)
	if f.slow {
		if err := s.cs.setMode("slow"); err != nil {
			res.Err = err
			return res
		}
	}
	l := newLoader(s.gw.base, fmt.Sprintf("f%d%s", i+1, s.runID), int64(i+1)*1_000_000)
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); l.run(loadCtx, s.d.Rate, 16) }()
	cleared, err := func() (time.Time, error) {
		if err := sleep(ctx, s.d.Warm); err != nil {
			return time.Time{}, err
		}
		return f.inject(ctx, s, l, &notes)
	}()
	// Recovery is timed on the cases acknowledged up to the moment the fault was cleared: the
	// backlog the fault left. It is watched while the load goes on.
	recovered := make(chan time.Duration, 1)
	pollCtx, stopPoll := context.WithTimeout(ctx, s.d.After+s.d.DeliverDeadline)
	defer stopPoll()
	if err == nil {
		before, _, _, _ := l.snapshot()
		go func() {
			for pollCtx.Err() == nil {
				if t, err := s.tally(pollCtx, before); err == nil && t.Lost == 0 {
					recovered <- time.Since(cleared)
					return
				}
				_ = sleep(pollCtx, 500*time.Millisecond)
			}
		}()
		err = sleep(ctx, s.d.After)
	}
	stopLoad()
	wg.Wait()
	if f.slow {
		if merr := s.cs.setMode("normal"); err == nil {
			err = merr
		}
	}
	acks, attempts, gaveUp, statuses := l.snapshot()
	res.Attempts, res.GaveUp, res.Statuses = attempts, gaveUp, statuses
	if err != nil {
		res.Err = err
		return res
	}
	for _, a := range acks {
		if a.At.After(cleared) {
			if back := a.At.Sub(cleared); !res.AckedAfter || back < res.IntakeBack {
				res.IntakeBack, res.AckedAfter = back, true
			}
		}
	}
	deadline := time.Now().Add(s.d.DeliverDeadline)
	for {
		t, err := s.tally(ctx, acks)
		if err != nil {
			res.Err = err
			return res
		}
		res.tally = t
		if res.Lost == 0 {
			res.Complete = true
			break
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			res.Notes = append(res.Notes, fmt.Sprintf("gave up waiting %s after the load stopped", s.d.DeliverDeadline))
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if res.Complete {
		select {
		case res.Recovery = <-recovered:
		case <-pollCtx.Done():
		}
	}
	return res
}

// tally reconciles acks with the store and the case system as they are now.
func (s *suite) tally(ctx context.Context, acks []ack) (tally, error) {
	stored, err := loadStored(ctx, s.dbURL)
	if err != nil {
		return tally{}, err
	}
	recv, err := s.cs.received()
	if err != nil {
		return tally{}, err
	}
	return reconcile(acks, stored, recv), nil
}
