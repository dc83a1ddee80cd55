package forward_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/forward"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/postgres"
	"github.com/hotline12345/intake-gateway/store/sqlite"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

const secret = "case-system-secret"

// caseSystem is a fake case system: it checks every request's signature the way the README tells
// receivers to, and answers as the test tells it to.
type caseSystem struct {
	*httptest.Server
	mu       sync.Mutex
	answer   func(r *http.Request, n int) (int, http.Header, string)
	received []received
	badSig   atomic.Int64
	calls    atomic.Int64
}

type received struct {
	event, key, caseID, caseNo string
	at                         time.Time
}

func newCaseSystem(t *testing.T) *caseSystem {
	cs := &caseSystem{answer: func(*http.Request, int) (int, http.Header, string) {
		return 201, nil, `{"case_ref":"CS-1"}`
	}}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(cs.calls.Add(1))
		body, _ := io.ReadAll(r.Body)
		if !verify(r.Header.Get("X-Intake-Signature"), body) {
			cs.badSig.Add(1)
			w.WriteHeader(401)
			return
		}
		var c intake.Case
		_ = json.Unmarshal(body, &c)
		cs.mu.Lock()
		answer := cs.answer
		cs.mu.Unlock()
		status, h, resp := answer(r, n)
		for k, v := range h {
			w.Header()[k] = v
		}
		if status >= 200 && status < 300 {
			cs.mu.Lock()
			cs.received = append(cs.received, received{r.Header.Get("X-Intake-Event"), r.Header.Get("Idempotency-Key"), c.ID, c.CaseNo, time.Now()})
			cs.mu.Unlock()
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, resp)
	}))
	t.Cleanup(cs.Close)
	return cs
}

// verify is the receiver-side check, written from the README rather than from forward.Sign.
func verify(header string, body []byte) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	want := hex.EncodeToString(mac.Sum(nil))
	return hmac.Equal([]byte(want), []byte(sig))
}

func (cs *caseSystem) setAnswer(f func(r *http.Request, n int) (int, http.Header, string)) {
	cs.mu.Lock()
	cs.answer = f
	cs.mu.Unlock()
}

func (cs *caseSystem) got() []received {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return append([]received(nil), cs.received...)
}

func fwConfig() forward.Options {
	return forward.Options{Workers: 20, Timeout: 2 * time.Second, MaxAttempts: 4, MaxAge: time.Hour,
		RetryMin: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond,
		BreakerThreshold: 3, BreakerMin: 200 * time.Millisecond, BreakerMax: 400 * time.Millisecond}
}

// process is one gateway process in a test: its store and the job runner working that store's
// jobs. Closing it stops the runner (jobs in flight are cancelled) and then the store, as a
// process that shuts down does.
type process struct {
	intake.Store
	runner *jobs.Runner
}

func (p *process) Close() error {
	if p.runner != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p.runner.Stop(ctx)
	}
	return p.Store.Close()
}

type harness struct {
	t      *testing.T
	open   func() intake.Store
	reopen func() intake.Store // a second process on the same database
}

func riverConfig(w *forward.Worker) *river.Config {
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	return &river.Config{
		Workers: workers, Queues: map[string]river.QueueConfig{jobs.ForwardQueue("default"): {MaxWorkers: 20}},
		FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	}
}

// work starts a job runner with rc on st's database; the process it returns stops the runner
// before the store when closed, and is closed when the test ends.
func work(t *testing.T, st intake.Store, rc *river.Config) *process {
	t.Helper()
	runner, err := jobs.RunnerFor(st, rc)
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := &process{Store: st, runner: runner}
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// start opens a store whose forwarding workers deliver to cs.
func (h harness) start(cs *caseSystem, cfg forward.Options, reopen bool) (*process, *forward.Worker) {
	open := h.open
	if reopen {
		open = h.reopen
	}
	st := open()
	w := forward.NewWorker(st, cfg, []forward.CaseSystem{{Name: "default", URL: cs.URL, Secret: secret}}, nil, nil, nil, nil)
	p := work(h.t, st, riverConfig(w))
	ctx, cancel := context.WithCancel(context.Background())
	h.t.Cleanup(cancel)
	go w.Run(ctx)
	return p, w
}

func sqliteHarness(t *testing.T) harness {
	path := filepath.Join(t.TempDir(), "fw.db")
	open := func() intake.Store {
		st, err := sqlite.Open(context.Background(), sqlite.Config{Path: path, Options: storetest.Options()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		if err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		return st
	}
	return harness{t: t, open: open, reopen: open}
}

func postgresHarness(t *testing.T) harness {
	url := pgtest.NewDatabase(t, "forward", func(ctx context.Context, u string) error {
		pool, err := pgxpool.New(ctx, u)
		if err != nil {
			return err
		}
		defer pool.Close()
		return postgres.Migrate(ctx, pool, nil)
	})
	open := func() intake.Store {
		st, err := postgres.Open(context.Background(), postgres.Config{URL: url, Options: storetest.Options()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}
	return harness{t: t, open: open, reopen: open}
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func create(t *testing.T, st intake.Store, ext string) intake.CreateResult {
	t.Helper()
	res, err := st.CreateCase(context.Background(), storetest.NewCase("rest:crm", ext, time.Now().UTC()))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func delivery(t *testing.T, st intake.Store, id string) *intake.Delivery {
	t.Helper()
	d, err := st.GetDelivery(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func bothStores(t *testing.T, run func(t *testing.T, h harness)) {
	t.Run("sqlite", func(t *testing.T) { run(t, sqliteHarness(t)) })
	t.Run("postgres", func(t *testing.T) { run(t, postgresHarness(t)) })
}

func TestDeliversSignedAndRecordsTheReference(t *testing.T) {
	bothStores(t, func(t *testing.T, h harness) {
		cs := newCaseSystem(t)
		st, _ := h.start(cs, fwConfig(), false)
		res := create(t, st, "a1")
		eventually(t, 10*time.Second, "delivery", func() bool { return delivery(t, st, res.Deliveries[0].ID).State == intake.DeliveryDelivered })
		got := cs.got()
		if len(got) != 1 || got[0].event != "case.created" || got[0].key != res.Case.ID || got[0].caseNo != res.Case.CaseNo {
			t.Fatalf("case system received %+v", got)
		}
		if cs.badSig.Load() != 0 {
			t.Fatal("a request failed the receiver's signature check")
		}
		c, _ := st.GetCase(context.Background(), res.Case.ID)
		if c.Status != intake.StatusForwarded || c.CaseRef != "CS-1" {
			t.Fatalf("case after forwarding: %s %q", c.Status, c.CaseRef)
		}
	})
}

func TestRetriesThenDelivers(t *testing.T) {
	bothStores(t, func(t *testing.T, h harness) {
		cs := newCaseSystem(t)
		cs.setAnswer(func(r *http.Request, n int) (int, http.Header, string) {
			switch n {
			case 1:
				return 503, nil, "busy"
			case 2:
				return 429, http.Header{"Retry-After": {"1"}}, "slow down"
			}
			return 200, nil, "{}"
		})
		st, _ := h.start(cs, fwConfig(), false)
		res := create(t, st, "r1")
		id := res.Deliveries[0].ID
		eventually(t, 10*time.Second, "delivery", func() bool { return delivery(t, st, id).State == intake.DeliveryDelivered })
		attempts, _ := st.DeliveryAttempts(context.Background(), id)
		if len(attempts) != 3 || attempts[0].StatusCode != 503 || attempts[1].StatusCode != 429 || attempts[2].StatusCode != 200 {
			t.Fatalf("attempts %+v", attempts)
		}
		if gap := attempts[2].At.Sub(attempts[1].At); gap < 900*time.Millisecond {
			t.Fatalf("Retry-After: 1 was not honoured (next attempt after %v)", gap)
		}
	})
}

func TestPermanentFailureIsDeadUntilReplayed(t *testing.T) {
	bothStores(t, func(t *testing.T, h harness) {
		cs := newCaseSystem(t)
		cs.setAnswer(func(*http.Request, int) (int, http.Header, string) { return 422, nil, `{"error":"missing district"}` })
		st, _ := h.start(cs, fwConfig(), false)
		res := create(t, st, "p1")
		id := res.Deliveries[0].ID
		eventually(t, 10*time.Second, "dead", func() bool { return delivery(t, st, id).State == intake.DeliveryDead })
		if d := delivery(t, st, id); d.Attempts != 1 || !strings.Contains(d.LastError, "422") {
			t.Fatalf("a 4xx must not be retried: %+v", d)
		}
		page, _ := st.ListDeliveries(context.Background(), intake.DeliveryFilter{State: intake.DeliveryDead})
		if len(page.Deliveries) != 1 {
			t.Fatalf("dead list %+v", page)
		}
		cs.setAnswer(func(*http.Request, int) (int, http.Header, string) { return 200, nil, `{"case_ref":"R9"}` })
		if _, err := st.RetryDelivery(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "replayed delivery", func() bool { return delivery(t, st, id).State == intake.DeliveryDelivered })
		if d := delivery(t, st, id); d.Attempts != 2 {
			t.Fatalf("attempts after replay: %d", d.Attempts)
		}
	})
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	h := sqliteHarness(t)
	cs := newCaseSystem(t)
	cs.setAnswer(func(*http.Request, int) (int, http.Header, string) { return 500, nil, "boom" })
	cfg := fwConfig()
	cfg.BreakerThreshold = 100 // keep the breaker out of this test
	st, _ := h.start(cs, cfg, false)
	id := create(t, st, "m1").Deliveries[0].ID
	eventually(t, 10*time.Second, "dead", func() bool { return delivery(t, st, id).State == intake.DeliveryDead })
	attempts, _ := st.DeliveryAttempts(context.Background(), id)
	if len(attempts) != cfg.MaxAttempts || cs.calls.Load() != int64(cfg.MaxAttempts) {
		t.Fatalf("%d attempts recorded, %d calls; want %d", len(attempts), cs.calls.Load(), cfg.MaxAttempts)
	}
	if d := delivery(t, st, id); !strings.Contains(d.LastError, "gave up after 4 attempts") {
		t.Fatalf("last error %q", d.LastError)
	}
}

func TestEventsOfACaseArriveInOrder(t *testing.T) {
	bothStores(t, func(t *testing.T, h harness) {
		cs := newCaseSystem(t)
		var createdCalls atomic.Int64
		cs.setAnswer(func(r *http.Request, n int) (int, http.Header, string) {
			if r.Header.Get("X-Intake-Event") == "case.created" && createdCalls.Add(1) <= 2 {
				return 503, nil, "not yet"
			}
			return 200, nil, "{}"
		})
		cfg := fwConfig()
		cfg.BreakerThreshold = 100
		st, _ := h.start(cs, cfg, false)
		res := create(t, st, "o1")
		for i := range 2 {
			if _, err := st.AddSupplement(context.Background(), res.Case.ID, intake.Supplement{ChannelID: "rest:crm",
				ExternalID: fmt.Sprintf("o1-sup-%d", i), Text: "补充", ReceivedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		eventually(t, 20*time.Second, "three events delivered", func() bool { return len(cs.got()) == 3 })
		got := cs.got()
		if got[0].event != "case.created" || got[1].event != "case.updated" || got[2].event != "case.updated" {
			t.Fatalf("order %v %v %v", got[0].event, got[1].event, got[2].event)
		}
		if got[1].key == got[0].key || got[1].key == got[2].key || !strings.HasPrefix(got[1].key, res.Case.ID+":") {
			t.Fatalf("idempotency keys %q %q %q", got[0].key, got[1].key, got[2].key)
		}
	})
}

func TestADownCaseSystemIsProbedNotHammered(t *testing.T) {
	h := sqliteHarness(t)
	cs := newCaseSystem(t)
	var up atomic.Bool
	cs.setAnswer(func(*http.Request, int) (int, http.Header, string) {
		if up.Load() {
			return 200, nil, "{}"
		}
		return 503, nil, "down"
	})
	cfg := fwConfig()
	cfg.MaxAttempts = 1000
	st, _ := h.start(cs, cfg, false)
	var ids []string
	for i := range 40 {
		ids = append(ids, create(t, st, fmt.Sprintf("b%d", i)).Deliveries[0].ID)
	}
	// The first wave (at most one request per worker, and the first probe) fails and opens the
	// breaker, which pauses the queue; from then on only one probe per pause (200 ms, doubling to
	// 400 ms) reaches the case system, where without the breaker each of 40 deliveries would
	// retry every 20-100 ms. The window starts once the pause is recorded and the first wave's
	// requests have had a second to finish, so a slow machine cannot stretch the wave into it.
	eventually(t, 20*time.Second, "breaker open", func() bool {
		paused, err := st.ForwardingPaused(context.Background(), "default")
		return err == nil && paused
	})
	firstWave := cs.calls.Load()
	time.Sleep(time.Second)
	windowStart := cs.calls.Load()
	time.Sleep(2 * time.Second)
	callsWhileDown := cs.calls.Load() - windowStart
	if firstWave > 22 || callsWhileDown > 7 {
		t.Fatalf("first wave %d requests, then %d more in 2 s while down", firstWave, callsWhileDown)
	}
	up.Store(true)
	eventually(t, 20*time.Second, "backlog drained", func() bool {
		for _, id := range ids {
			if delivery(t, st, id).State != intake.DeliveryDelivered {
				return false
			}
		}
		return true
	})
	t.Logf("%d requests in 2 s while down, %d in all for 40 cases", callsWhileDown, cs.calls.Load())
}

func TestRestartInTheMiddleOfABacklog(t *testing.T) {
	bothStores(t, func(t *testing.T, h harness) {
		cs := newCaseSystem(t)
		var slow atomic.Bool
		slow.Store(true)
		cs.setAnswer(func(*http.Request, int) (int, http.Header, string) {
			if slow.Load() {
				time.Sleep(50 * time.Millisecond)
			}
			return 200, nil, "{}"
		})
		st, _ := h.start(cs, fwConfig(), false)
		var cases []intake.CreateResult
		for i := range 150 {
			cases = append(cases, create(t, st, fmt.Sprintf("k%d", i)))
		}
		time.Sleep(200 * time.Millisecond)
		_ = st.Close() // the process stops with deliveries in flight and queued
		before := len(cs.got())
		slow.Store(false)
		st2, _ := h.start(cs, fwConfig(), true)
		eventually(t, 30*time.Second, "every case delivered after the restart", func() bool {
			for _, c := range cases {
				if delivery(t, st2, c.Deliveries[0].ID).State != intake.DeliveryDelivered {
					return false
				}
			}
			return true
		})
		seen := map[string]bool{}
		for _, r := range cs.got() {
			seen[r.key] = true
		}
		for _, c := range cases {
			if !seen[c.Case.ID] {
				t.Fatalf("case %s never reached the case system", c.Case.CaseNo)
			}
		}
		t.Logf("%d delivered before the stop, %d requests in all for %d cases", before, len(cs.got()), len(cases))
	})
}

func TestUrgentCasesGoFirst(t *testing.T) {
	h := sqliteHarness(t)
	cs := newCaseSystem(t)
	// Create the backlog before any worker runs, then start workers one at a time.
	st := h.open()
	var urgentIDs []string
	for i := range 30 {
		nc := storetest.NewCase("rest:crm", fmt.Sprintf("u%d", i), time.Now().UTC())
		if i%10 == 9 {
			nc.Case.Priority = intake.PriorityUrgent
			urgentIDs = append(urgentIDs, nc.Case.ID)
		}
		if _, err := st.CreateCase(context.Background(), nc); err != nil {
			t.Fatal(err)
		}
	}
	_ = st.Close()
	st2 := h.reopen()
	w := forward.NewWorker(st2, fwConfig(), []forward.CaseSystem{{Name: "default", URL: cs.URL, Secret: secret}}, nil, nil, nil, nil)
	rc := riverConfig(w)
	rc.Queues = map[string]river.QueueConfig{jobs.ForwardQueue("default"): {MaxWorkers: 1}}
	work(t, st2, rc)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	eventually(t, 20*time.Second, "all delivered", func() bool { return len(cs.got()) == 30 })
	first := map[string]bool{}
	for _, r := range cs.got()[:3] {
		first[r.caseID] = true
	}
	for _, id := range urgentIDs {
		if !first[id] {
			t.Fatalf("urgent case %s was not among the first three delivered", id)
		}
	}
}

func TestRouting(t *testing.T) {
	r := forward.NewRouter(forward.Options{Routes: []forward.Route{
		{Target: "east", Districts: []string{"环翠区"}},
		{Target: "fund", Categories: []string{"housing_fund"}, Channels: []string{"wechat"}},
	}}, []forward.CaseSystem{{Name: "first"}, {Name: "default"}, {Name: "east"}, {Name: "fund"}})
	c := &intake.Case{Channel: intake.ChannelWeChat, Classification: intake.Classification{Category: "housing_fund"}}
	if got := r.Route(c); got != "fund" {
		t.Fatalf("category+channel route: %s", got)
	}
	c.Location = &intake.Location{District: "环翠区"}
	if got := r.Route(c); got != "east" {
		t.Fatalf("first matching route wins: %s", got)
	}
	if got := r.Route(&intake.Case{Channel: intake.ChannelSMS}); got != "default" {
		t.Fatalf("fallback: %s", got)
	}
	if got := forward.NewRouter(forward.Options{}, []forward.CaseSystem{{Name: "only"}}).Route(&intake.Case{}); got != "only" {
		t.Fatalf("fallback without a default: %s", got)
	}
}

func TestSignMatchesTheDocumentedScheme(t *testing.T) {
	at := time.Unix(1764230400, 0)
	body := []byte(`{"id":"x"}`)
	got := forward.Sign("s3cret", at, body)
	mac := hmac.New(sha256.New, []byte("s3cret"))
	mac.Write([]byte("1764230400." + string(body)))
	if want := "t=1764230400,v1=" + hex.EncodeToString(mac.Sum(nil)); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

var _ = store.NewID

// A long outage must not kill the delivery the prober keeps trying: its failures are the case
// system's, not the delivery's.
func TestALongOutageDoesNotKillTheProbedDelivery(t *testing.T) {
	h := sqliteHarness(t)
	cs := newCaseSystem(t)
	var up atomic.Bool
	cs.setAnswer(func(*http.Request, int) (int, http.Header, string) {
		if up.Load() {
			return 200, nil, "{}"
		}
		return 503, nil, "down"
	})
	cfg := fwConfig()
	cfg.MaxAttempts = 3
	cfg.BreakerThreshold = 1
	cfg.BreakerMin, cfg.BreakerMax = 50*time.Millisecond, 50*time.Millisecond
	st, _ := h.start(cs, cfg, false)
	id := create(t, st, "outage").Deliveries[0].ID
	eventually(t, 10*time.Second, "many probes", func() bool { return cs.calls.Load() >= 10 })
	if d := delivery(t, st, id); d.State == intake.DeliveryDead {
		t.Fatalf("the probed delivery died during the outage after %d attempts", d.Attempts)
	}
	up.Store(true)
	eventually(t, 10*time.Second, "delivered after the outage", func() bool { return delivery(t, st, id).State == intake.DeliveryDelivered })
}
