package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

// These tests run the real binary, kill it while it is accepting submissions and forwarding them
// to a slow case system, start it again on the same store and check the gateway's first promise:
// every submission that was answered 2xx is there with the number it was given, resending any of
// them creates nothing new, and every one of them reaches the case system within a minute of the
// restart, including those whose delivery was in flight when the process died.

const crashKey = "crash-test-key"

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "intake-gateway")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type gateway struct {
	t    *testing.T
	bin  string
	cfg  string
	addr string
	cmd  *exec.Cmd
	log  *bytes.Buffer
	// cases is the case system the gateway forwards to.
	cases *slowCaseSystem
}

// slowCaseSystem stands in for a case system that takes 1 to 3 seconds to accept a case, so
// that many deliveries are in flight whenever the gateway dies. A case counts as received only
// when its answer went out to a gateway that was still there to read it.
type slowCaseSystem struct {
	*httptest.Server
	mu       sync.Mutex
	received map[string]bool // Idempotency-Key of the case's first event → accepted
}

func newSlowCaseSystem(t *testing.T) *slowCaseSystem {
	cs := &slowCaseSystem{received: map[string]bool{}}
	cs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-time.After(time.Second + rand.N(2*time.Second)):
		case <-r.Context().Done():
			return // the gateway hung up (it was killed): nothing was accepted
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		if _, err := w.Write([]byte(`{"case_ref":"CS-1"}`)); err != nil {
			return
		}
		// The event that opens a case: case.created, or case.duplicate for the repeated requests
		// these near-identical submissions from one phone number are.
		if intake.IsFirstEvent(r.Header.Get("X-Intake-Event")) {
			cs.mu.Lock()
			cs.received[r.Header.Get("Idempotency-Key")] = true
			cs.mu.Unlock()
		}
	}))
	t.Cleanup(cs.Close)
	return cs
}

// missing returns the case ids of acked that the case system has not accepted.
func (cs *slowCaseSystem) missing(acked map[string]ack) []string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	var out []string
	for _, a := range acked {
		if !cs.received[a.id] {
			out = append(out, a.id)
		}
	}
	return out
}

func newGateway(t *testing.T, bin, dbURL string) *gateway {
	t.Helper()
	dir := t.TempDir()
	addr := freePort(t)
	cs := newSlowCaseSystem(t)
	cfg := filepath.Join(dir, "gateway.yaml")
	yaml := fmt.Sprintf(`server: { listen: %q, request_timeout: 10s, shutdown_timeout: 10s }
database: { url: %q, sqlite_path: %q }
log: { level: warn }
api_keys: [{ name: crash, sha256: "%x", scopes: [submit, read] }]
# The test resends every submission at once after the restart; the per-key rate limit would
# answer part of them 429, which is not what it checks.
rate_limits: { api_key: { rate: 0 } }
case_systems: [{ name: default, url: %q, secret: crash-secret }]
forwarding: { timeout: 4s, workers: 300 }
`, addr, dbURL, filepath.Join(dir, "intake.db"), sha256.Sum256([]byte(crashKey)), cs.URL)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return &gateway{t: t, bin: bin, cfg: cfg, addr: addr, cases: cs}
}

func (g *gateway) start() {
	g.t.Helper()
	g.log = &bytes.Buffer{}
	g.cmd = exec.Command(g.bin, "serve", "--config", g.cfg)
	g.cmd.Stdout, g.cmd.Stderr = g.log, g.log
	if err := g.cmd.Start(); err != nil {
		g.t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get("http://" + g.addr + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	g.t.Fatalf("gateway did not become ready:\n%s", g.log)
}

func (g *gateway) stop(sig syscall.Signal) {
	g.t.Helper()
	_ = g.cmd.Process.Signal(sig)
	_ = g.cmd.Wait()
}

type ack struct {
	id, caseNo string
}

func (g *gateway) submit(client *http.Client, key string) (ack, int, error) {
	body := fmt.Sprintf(`{"text":"崩溃测试 %s：小区路灯不亮","citizen":{"phone":"13800138000"}}`, key)
	req, _ := http.NewRequest("POST", "http://"+g.addr+"/v1/submissions", bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer "+crashKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	res, err := client.Do(req)
	if err != nil {
		return ack{}, 0, err
	}
	defer res.Body.Close()
	var m struct {
		ID     string `json:"id"`
		CaseNo string `json:"case_no"`
	}
	_ = json.NewDecoder(res.Body).Decode(&m)
	return ack{m.ID, m.CaseNo}, res.StatusCode, nil
}

func runCrash(t *testing.T, g *gateway, sig syscall.Signal) {
	g.start()
	client := &http.Client{Timeout: 10 * time.Second}
	var (
		mu    sync.Mutex
		acked = map[string]ack{}
		tried = map[string]bool{}
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(context.Background())
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				key := fmt.Sprintf("w%d-%d", w, i)
				mu.Lock()
				tried[key] = true
				mu.Unlock()
				a, status, err := g.submit(client, key)
				if err != nil {
					return // the process died under us
				}
				if status == 201 || status == 200 {
					mu.Lock()
					acked[key] = a
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(1500 * time.Millisecond)
	g.stop(sig)
	cancel()
	wg.Wait()
	if len(acked) < 50 {
		t.Fatalf("only %d submissions acknowledged before the stop; the test proves nothing\n%s", len(acked), g.log)
	}

	g.start()
	defer g.stop(syscall.SIGTERM)
	// Every acknowledged case reaches the case system, the ones in flight at the stop too.
	deadline := time.Now().Add(time.Minute)
	for missing := g.cases.missing(acked); len(missing) > 0; missing = g.cases.missing(acked) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged cases have not reached the case system a minute after the restart (e.g. %s)\n%s",
				len(missing), len(acked), missing[0], g.log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for key, a := range acked {
		res, err := client.Do(authGet("http://" + g.addr + "/v1/cases/" + a.id))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("acknowledged case %s (key %s) is gone after the restart: %d", a.caseNo, key, res.StatusCode)
		}
		again, status, err := g.submit(client, key)
		if err != nil || status != 200 || again.id != a.id || again.caseNo != a.caseNo {
			t.Fatalf("resending %s: status %d, case %s/%s, want replay of %s/%s (%v)", key, status, again.id, again.caseNo, a.id, a.caseNo, err)
		}
	}
	// Submissions cut off mid-flight may or may not have been stored; resending them now must
	// give exactly one case each.
	seen := map[string]string{}
	for key := range tried {
		a, status, err := g.submit(client, key)
		if err != nil || (status != 200 && status != 201) {
			t.Fatalf("resend %s after restart: %d %v", key, status, err)
		}
		if prev, ok := seen[a.caseNo]; ok {
			t.Fatalf("keys %s and %s share case number %s", prev, key, a.caseNo)
		}
		seen[a.caseNo] = key
	}
	t.Logf("%d acknowledged before the stop, %d attempted; all present once after restart", len(acked), len(tried))
}

func authGet(url string) *http.Request {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+crashKey)
	return req
}

func TestKilledProcessLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	t.Run("sqlite", func(t *testing.T) { runCrash(t, newGateway(t, bin, ""), syscall.SIGKILL) })
	t.Run("postgres", func(t *testing.T) {
		url := pgtest.NewDatabase(t, "", nil)
		runCrash(t, newGateway(t, bin, url), syscall.SIGKILL)
	})
	t.Run("sqlite graceful", func(t *testing.T) { runCrash(t, newGateway(t, bin, ""), syscall.SIGTERM) })
}
