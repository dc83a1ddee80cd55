package hottopics_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/hottopics"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
	"github.com/hotline12345/intake-gateway/store/postgres"
	"github.com/hotline12345/intake-gateway/store/sqlite"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

// TestMain drops the template databases this package's tests created.
func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplates()
	os.Exit(code)
}

// whsecKey is the duty officer's webhook secret: Standard Webhooks' whsec_ and base64 of 32 bytes.
var whsecKey = []byte("0123456789abcdef0123456789abcdef")

var whsec = "whsec_" + base64.StdEncoding.EncodeToString(whsecKey)

// dutyDesk is the duty officer's webhook receiver. It verifies every request as the Standard
// Webhooks specification tells receivers to (written from the specification, not from the
// gateway's signer) and refuses the first request with 503, as a receiver that is restarting does.
type dutyDesk struct {
	*httptest.Server
	mu       sync.Mutex
	calls    int
	badSig   int
	ids      []string
	accepted [][]byte
	events   []string
}

func newDutyDesk(t *testing.T) *dutyDesk {
	d := &dutyDesk{}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		d.mu.Lock()
		defer d.mu.Unlock()
		d.calls++
		id := r.Header.Get("webhook-id")
		d.ids = append(d.ids, id)
		if !verifyStandardWebhook(id, r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature"), body) {
			d.badSig++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if d.calls == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		d.accepted = append(d.accepted, body)
		d.events = append(d.events, r.Header.Get("X-Intake-Event"))
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(d.Close)
	return d
}

func verifyStandardWebhook(id, ts, sigs string, body []byte) bool {
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute || id == "" {
		return false
	}
	mac := hmac.New(sha256.New, whsecKey)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, s := range strings.Fields(sigs) {
		if v, ok := strings.CutPrefix(s, "v1,"); ok && hmac.Equal([]byte(v), []byte(want)) {
			return true
		}
	}
	return false
}

func (d *dutyDesk) snapshot() (calls, badSig int, ids []string, accepted [][]byte, events []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls, d.badSig, append([]string(nil), d.ids...), append([][]byte(nil), d.accepted...), append([]string(nil), d.events...)
}

type incidentStore interface {
	intake.Store
	intake.Incidents
}

// stores opens two processes' stores on one fresh database of each driver (SQLite: one file,
// one process, so both are the same store).
func stores(t *testing.T) map[string]func(t *testing.T) (incidentStore, incidentStore) {
	return map[string]func(t *testing.T) (incidentStore, incidentStore){
		"sqlite": func(t *testing.T) (incidentStore, incidentStore) {
			st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "topics.db"), Options: storetest.Options()})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			if err := st.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			return st, st
		},
		"postgres": func(t *testing.T) (incidentStore, incidentStore) {
			url := pgtest.NewDatabase(t, "hottopics", func(ctx context.Context, u string) error {
				pool, err := pgxpool.New(ctx, u)
				if err != nil {
					return err
				}
				defer pool.Close()
				return postgres.Migrate(ctx, pool, nil)
			})
			open := func() incidentStore {
				st, err := postgres.Open(context.Background(), postgres.Config{URL: url, Options: storetest.Options()})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = st.Close() })
				return st
			}
			return open(), open()
		},
	}
}

// work runs the announcement worker on st's database until the test ends.
func work(t *testing.T, st intake.Store, a *hottopics.Announcer) {
	t.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, jobs.Bound(a, a.Bound()))
	runner, err := jobs.RunnerFor(st, &river.Config{
		Workers: workers, Queues: map[string]river.QueueConfig{jobs.QueueHotTopics: {MaxWorkers: 2}},
		FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		runner.Stop(ctx)
	})
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("not within %s: %s", within, what)
}

func create(t *testing.T, st intake.Store, id, text, district string, at time.Time) *intake.Case {
	t.Helper()
	res, err := st.CreateCase(context.Background(), storetest.TopicCase(id, text, "utilities", district, at))
	if err != nil {
		t.Fatal(err)
	}
	return res.Case
}

// TestABurstIsAnnouncedOnceSigned stores a burst of reports of one water cut in one district, the
// same category's other complaints there, and a smaller burst in the next district; then four
// clustering runs race, from two processes. One incident opens, with the 15 reports, and the duty
// desk gets exactly one accepted, correctly signed incident.opened (after a 503, retried with the
// same webhook-id).
func TestABurstIsAnnouncedOnceSigned(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			a, b := open(t)
			desk := newDutyDesk(t)
			now := time.Now().UTC().Truncate(time.Second)
			var burst []*intake.Case
			for i := range 15 {
				burst = append(burst, create(t, a, fmt.Sprintf("cut-%d", i), waterCut(i), "江岸区", now.Add(-time.Duration(90-5*i)*time.Minute)))
			}
			for i, text := range unlike {
				create(t, a, fmt.Sprintf("other-%d", i), text, "江岸区", now.Add(-time.Duration(i)*time.Minute))
			}
			for i := range 14 {
				create(t, a, fmt.Sprintf("next-%d", i), waterCut(i), "武昌区", now.Add(-time.Duration(i)*time.Minute))
			}
			o := opts()
			o.Webhook = hottopics.Webhook{URL: desk.URL, Secret: whsec, Timeout: 2 * time.Second}
			work(t, a, hottopics.NewAnnouncer(a, o.Webhook, nil, nil, nil))

			var wg sync.WaitGroup
			errs := make(chan error, 4)
			opened := make(chan intake.Incident, 4)
			for i := range 4 {
				st := a
				if i%2 == 1 {
					st = b
				}
				sc, err := hottopics.NewScanner(st, o, nil, nil)
				if err != nil {
					t.Fatal(err)
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					res, err := sc.Scan(context.Background())
					if err != nil {
						errs <- err
						return
					}
					for _, in := range res.Opened {
						opened <- in
					}
				}()
			}
			wg.Wait()
			close(errs)
			close(opened)
			for err := range errs {
				t.Fatal(err)
			}
			var incidents []intake.Incident
			for in := range opened {
				incidents = append(incidents, in)
			}
			if len(incidents) != 1 {
				t.Fatalf("4 racing runs opened %d incidents, want 1", len(incidents))
			}
			in := incidents[0]
			if in.District != "江岸区" || in.Size != 15 || !strings.Contains(in.Summary, "停水") {
				t.Fatalf("incident = %+v", in)
			}
			members, err := a.IncidentCases(context.Background(), in.ID, 100)
			if err != nil {
				t.Fatal(err)
			}
			memberIDs := map[string]bool{}
			for _, c := range members {
				memberIDs[c.ID] = true
			}
			for _, c := range burst {
				if !memberIDs[c.ID] {
					t.Fatalf("report %s is not a member of the incident", c.CaseNo)
				}
			}

			eventually(t, 15*time.Second, "the announcement delivered", func() bool {
				got, err := a.GetIncident(context.Background(), in.ID)
				return err == nil && got.Announcement == intake.DeliveryDelivered
			})
			time.Sleep(300 * time.Millisecond) // time for a second announcement, were one queued
			// A later run finds the incident and announces nothing new.
			sc, _ := hottopics.NewScanner(b, o, nil, nil)
			if res, err := sc.Scan(context.Background()); err != nil || len(res.Opened) != 0 {
				t.Fatalf("a later run = %+v, %v; want nothing opened", res, err)
			}
			time.Sleep(200 * time.Millisecond)
			calls, badSig, ids, accepted, events := desk.snapshot()
			if badSig != 0 || len(accepted) != 1 || calls != 2 {
				t.Fatalf("duty desk: %d calls, %d with a bad signature, %d accepted; want 2 calls (a 503, then the retry), 1 accepted", calls, badSig, len(accepted))
			}
			for _, id := range ids {
				if id != in.ID {
					t.Fatalf("webhook-ids %v, want the incident id %s on every try", ids, in.ID)
				}
			}
			if events[0] != intake.EventIncidentOpened {
				t.Fatalf("X-Intake-Event = %q", events[0])
			}
			var msg hottopics.Announcement
			if err := json.Unmarshal(accepted[0], &msg); err != nil {
				t.Fatal(err)
			}
			if msg.Type != intake.EventIncidentOpened || msg.Data.ID != in.ID || msg.Data.Size != 15 || msg.Data.District != "江岸区" ||
				len(msg.Data.CaseNos) != 15 {
				t.Fatalf("announcement = %s", accepted[0])
			}
			for _, personal := range []string{"13800138000", "138 0013 8000", "王女士", "张建国"} {
				if strings.Contains(string(accepted[0]), personal) {
					t.Fatalf("the announcement carries personal data %q: %s", personal, accepted[0])
				}
			}
			got, err := a.GetIncident(context.Background(), in.ID)
			if err != nil || got.AnnounceAttempts != 2 {
				t.Fatalf("incident after announcing = %+v, %v; want 2 attempts recorded", got, err)
			}
		})
	}
}

// TestARefusedAnnouncementIsGivenUp: a 4xx other than 408/429 is the receiver's final word.
func TestARefusedAnnouncementIsGivenUp(t *testing.T) {
	open := stores(t)["sqlite"]
	st, _ := open(t)
	var calls sync.WaitGroup
	calls.Add(1)
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(calls.Done)
		w.WriteHeader(http.StatusBadRequest)
	}))
	t.Cleanup(srv.Close)
	now := time.Now().UTC()
	for i := range 15 {
		create(t, st, fmt.Sprintf("cut-%d", i), waterCut(i), "江岸区", now.Add(-time.Duration(i)*time.Minute))
	}
	o := opts()
	o.Webhook = hottopics.Webhook{URL: srv.URL, Secret: whsec, Timeout: time.Second}
	work(t, st, hottopics.NewAnnouncer(st, o.Webhook, nil, nil, nil))
	sc, err := hottopics.NewScanner(st, o, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := sc.Scan(context.Background())
	if err != nil || len(res.Opened) != 1 {
		t.Fatalf("Scan = %+v, %v", res, err)
	}
	eventually(t, 10*time.Second, "the announcement given up", func() bool {
		got, err := st.GetIncident(context.Background(), res.Opened[0].ID)
		return err == nil && got.Announcement == intake.DeliveryDead && got.AnnounceError == "400 Bad Request"
	})
}
