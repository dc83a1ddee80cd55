package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

// pacedCaseSystem answers every delivery after delay (or, with delay < 0, only when the test
// ends), and reports each request as it arrives and as it is answered.
type pacedCaseSystem struct {
	*httptest.Server
	arrived, answered chan string
	release           chan struct{}
}

func newPacedCaseSystem(t *testing.T, delay time.Duration) *pacedCaseSystem {
	cs := &pacedCaseSystem{arrived: make(chan string, 100), answered: make(chan string, 100), release: make(chan struct{})}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		key := r.Header.Get("Idempotency-Key")
		cs.arrived <- key
		if delay < 0 {
			select {
			case <-cs.release:
			case <-r.Context().Done():
				return
			}
		} else {
			time.Sleep(delay)
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"case_ref":"CS-1"}`))
		cs.answered <- key
	}))
	t.Cleanup(func() { close(cs.release); cs.Close() })
	return cs
}

// gatewayWithCaseSystem writes a config that forwards to caseSystem and serves metrics on a
// private admin address.
func gatewayWithCaseSystem(t *testing.T, bin, dbURL, caseSystem, extraServer string) (*gateway, string) {
	t.Helper()
	dir := t.TempDir()
	addr, admin := freePort(t), freePort(t)
	cfg := filepath.Join(dir, "gateway.yaml")
	yaml := fmt.Sprintf(`server: { listen: %q, admin_listen: %q, request_timeout: 5s %s }
database: { url: %q, sqlite_path: %q }
log: { level: warn }
api_keys: [{ name: crash, sha256: "%x", scopes: [submit, read] }]
case_systems: [{ name: default, url: %q, secret: s }]
forwarding: { timeout: 30s }
`, addr, admin, extraServer, dbURL, filepath.Join(dir, "intake.db"), sha256.Sum256([]byte(crashKey)), caseSystem)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return &gateway{t: t, bin: bin, cfg: cfg, addr: addr}, admin
}

func receiveWithin[T any](t *testing.T, ch <-chan T, within time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(within):
		t.Fatalf("no %s within %v", what, within)
	}
	var zero T
	return zero
}

// On SIGTERM the gateway stops taking background jobs but lets a delivery in flight finish, and
// while it does, it keeps answering: /readyz with 503 (so a balancer moves away) and submissions
// as usual. Before, the listener closed first and clients were refused for as long as the
// delivery took.
func TestGracefulShutdownServesWhileDeliveriesFinish(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	for _, store := range []string{"sqlite", "postgres"} {
		t.Run(store, func(t *testing.T) {
			dbURL := ""
			if store == "postgres" {
				dbURL = pgtest.NewDatabase(t, "", nil)
			}
			cs := newPacedCaseSystem(t, 3*time.Second)
			g, _ := gatewayWithCaseSystem(t, bin, dbURL, cs.URL, ", shutdown_timeout: 20s")
			g.start()
			client := &http.Client{Timeout: 10 * time.Second}
			first, status, err := g.submit(client, "drain-1")
			if err != nil || status != 201 {
				t.Fatalf("first submission: %d %v", status, err)
			}
			if key := receiveWithin(t, cs.arrived, 15*time.Second, "delivery"); key != first.id {
				t.Fatalf("delivery for %q, want %q", key, first.id)
			}
			exited := make(chan struct{})
			_ = g.cmd.Process.Signal(syscall.SIGTERM)
			go func() { _ = g.cmd.Wait(); close(exited) }()
			time.Sleep(300 * time.Millisecond) // the signal has been handled

			res, err := client.Get("http://" + g.addr + "/readyz")
			if err != nil {
				t.Fatalf("readyz while draining: %v (the listener closed before the delivery finished)", err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("readyz while draining: %d, want 503", res.StatusCode)
			}
			second, status, err := g.submit(client, "drain-2")
			if err != nil || status != 201 || second.caseNo == "" {
				t.Fatalf("submission while draining: %d %v", status, err)
			}
			if key := receiveWithin(t, cs.answered, 10*time.Second, "answer to the delivery in flight"); key != first.id {
				t.Fatalf("answered %q", key)
			}
			receiveWithin(t, exited, 20*time.Second, "exit")

			// The delivery that was in flight finished and was recorded; the case taken while
			// draining is stored and waits for the next process.
			g.start()
			defer g.stop(syscall.SIGTERM)
			for _, c := range []struct {
				id, state string
			}{{first.id, "delivered"}, {second.id, ""}} {
				res, err := client.Do(authGet("http://" + g.addr + "/v1/cases/" + c.id))
				if err != nil {
					t.Fatal(err)
				}
				var body struct {
					Deliveries []struct {
						State string `json:"state"`
					} `json:"deliveries"`
				}
				_ = json.NewDecoder(res.Body).Decode(&body)
				res.Body.Close()
				if res.StatusCode != 200 {
					t.Fatalf("case %s after restart: %d", c.id, res.StatusCode)
				}
				if c.state != "" && (len(body.Deliveries) == 0 || body.Deliveries[0].State != c.state) {
					t.Fatalf("delivery of the case in flight at SIGTERM: %+v, want %s", body.Deliveries, c.state)
				}
			}
		})
	}
}

// A case system that never answers cannot hold the shutdown past server.shutdown_timeout.
func TestShutdownIsBoundedWhenTheCaseSystemHangs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	cs := newPacedCaseSystem(t, -1)
	g, _ := gatewayWithCaseSystem(t, bin, "", cs.URL, ", shutdown_timeout: 3s")
	g.start()
	client := &http.Client{Timeout: 10 * time.Second}
	if _, status, err := g.submit(client, "hang-1"); err != nil || status != 201 {
		t.Fatalf("submission: %d %v", status, err)
	}
	receiveWithin(t, cs.arrived, 15*time.Second, "delivery")
	exited := make(chan struct{})
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	go func() { _ = g.cmd.Wait(); close(exited) }()
	// 3 s configured; the generous margin only absorbs a loaded test machine.
	receiveWithin(t, exited, 15*time.Second, "exit of a gateway whose case system hangs")
}

// Metrics and profiles are served on the admin listener only.
func TestMetricsOnlyOnTheAdminListener(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	cs := newPacedCaseSystem(t, 0)
	g, admin := gatewayWithCaseSystem(t, bin, "", cs.URL, "")
	g.start()
	defer g.stop(syscall.SIGTERM)
	get := func(url string) (int, string) {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, path := range []string{"/metrics", "/debug/pprof/"} {
		if status, _ := get("http://" + g.addr + path); status != 404 {
			t.Errorf("public %s: %d, want 404", path, status)
		}
	}
	status, body := get("http://" + admin + "/metrics")
	if status != 200 || !strings.Contains(body, "intake_http_requests_total") && !strings.Contains(body, "go_goroutines") {
		t.Fatalf("admin /metrics: %d", status)
	}
	if status, _ := get("http://" + admin + "/debug/pprof/"); status != 200 {
		t.Fatalf("admin pprof: %d", status)
	}
}
