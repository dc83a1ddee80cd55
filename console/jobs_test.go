package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/console"
	"github.com/hotline12345/intake-gateway/internal/jobs"
)

// jobsEnv is a console with River's job UI on the store's database.
func jobsEnv(t *testing.T, st consoleStore) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ui, err := jobs.UIFor(ctx, st, "/console/jobs", nil)
	if err != nil {
		t.Fatal(err)
	}
	return newEnv(t, st, console.Options{Jobs: ui})
}

func (b *browser) send(method, path, body string, header ...string) response {
	b.e.t.Helper()
	req, err := http.NewRequest(method, b.e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

type jobRow struct {
	ID    json.Number `json:"id"`
	Kind  string      `json:"kind"`
	State string      `json:"state"`
}

func (b *browser) jobs(state string) []jobRow {
	b.e.t.Helper()
	r := b.get("/console/jobs/api/jobs?state=" + state + "&limit=100")
	if r.status != http.StatusOK {
		b.e.t.Fatalf("job list: %d %s", r.status, r.body)
	}
	var out struct {
		Data []jobRow `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		b.e.t.Fatalf("job list: %v\n%s", err, r.body)
	}
	return out.Data
}

// Admins get River's job UI; operators and viewers are refused, strangers sent to sign in; the
// UI's API changes nothing without the session's CSRF token, which the console hands its pages.
func TestJobsUI(t *testing.T) {
	for name, open := range map[string]func(*testing.T) consoleStore{"sqlite": openSQLite, "postgres": openPostgres} {
		t.Run(name, func(t *testing.T) { testJobsUI(t, jobsEnv(t, open(t))) })
	}
}

func testJobsUI(t *testing.T, e *env) {
	if r := e.browser().get("/console/jobs/"); r.url != "/console/login" {
		t.Fatalf("signed out: landed on %s (%d)", r.url, r.status)
	}
	if r := e.browser().send(http.MethodPost, "/console/jobs/api/jobs/cancel", `{"ids":["1"]}`); r.status != http.StatusUnauthorized {
		t.Fatalf("signed-out POST: %d", r.status)
	}
	for _, name := range []string{"vic", "olga"} {
		b := e.browser()
		b.mustLogin(name)
		for _, path := range []string{"/console/jobs/", "/console/jobs/api/jobs?state=available"} {
			if r := b.get(path); r.status != http.StatusForbidden {
				t.Errorf("%s GET %s: %d", name, path, r.status)
			}
		}
	}
	admin := e.browser()
	csrf := admin.mustLogin("alice")
	page := admin.get("/console/jobs/")
	if page.status != http.StatusOK || !strings.Contains(page.body, "config__json") {
		t.Fatalf("admin: %d\n%s", page.status, page.body)
	}
	if !strings.Contains(page.body, `<head><meta name="console-csrf" content="`+csrf+`"><script src="/console/static/jobs-csrf.js"></script>`) {
		t.Errorf("the page lacks the console's token and script:\n%.600s", page.body)
	}
	if csp := page.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self';") || !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q", csp)
	}
	if r := admin.get("/console/jobs"); r.url != "/console/jobs/" || r.status != http.StatusOK {
		t.Errorf("/console/jobs: %d at %s", r.status, r.url)
	}
	// The fixture's cases queued their deliveries.
	avail := admin.jobs("available")
	if len(avail) == 0 {
		t.Fatal("no available job listed")
	}
	id := avail[0].ID.String()
	cancel := fmt.Sprintf(`{"ids":[%q]}`, id)
	for _, tc := range []struct {
		name   string
		header []string
	}{
		{"no token", nil},
		{"a wrong token", []string{"X-CSRF-Token", "x" + csrf}},
		{"a cross-site request", []string{"X-CSRF-Token", csrf, "Sec-Fetch-Site", "cross-site"}},
	} {
		if r := admin.send(http.MethodPost, "/console/jobs/api/jobs/cancel", cancel, tc.header...); r.status != http.StatusForbidden {
			t.Errorf("cancel with %s: %d %s", tc.name, r.status, r.body)
		}
		if r := admin.send(http.MethodPut, "/console/jobs/api/queues/default/pause", `{}`, tc.header...); r.status != http.StatusForbidden {
			t.Errorf("pause with %s: %d", tc.name, r.status)
		}
	}
	if got := admin.jobs("cancelled"); len(got) != 0 {
		t.Fatalf("refused requests cancelled %v", got)
	}
	if r := admin.send(http.MethodPost, "/console/jobs/api/jobs/cancel", cancel, "X-CSRF-Token", csrf); r.status != http.StatusOK {
		t.Fatalf("cancel with the token: %d %s", r.status, r.body)
	}
	if got := admin.jobs("cancelled"); len(got) != 1 || got[0].ID.String() != id {
		t.Fatalf("cancelled after the request: %v", got)
	}
	if js := admin.get("/console/static/jobs-csrf.js"); js.status != http.StatusOK || !strings.Contains(js.body, "X-CSRF-Token") {
		t.Errorf("jobs-csrf.js: %d", js.status)
	}
}

// adminJobs lists jobs in a state through the UI's API, as an admin of its own.
func (e *env) adminJobs(t *testing.T, state string) []jobRow {
	t.Helper()
	b := e.browser()
	b.mustLogin("alice")
	return b.jobs(state)
}

// Without a job UI (not configured), admins get a page that says so.
func TestJobsUIAbsent(t *testing.T) {
	e := newEnv(t, openSQLite(t), console.Options{})
	b := e.browser()
	b.mustLogin("alice")
	if r := b.get("/console/jobs/"); r.status != http.StatusNotFound || !strings.Contains(r.body, "不可用") {
		t.Fatalf("%d\n%s", r.status, r.body)
	}
}
