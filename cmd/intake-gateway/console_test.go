package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/console"
	"github.com/hotline12345/intake-gateway/internal/logging"
	"github.com/hotline12345/intake-gateway/normalize/evaluate"
)

const (
	consoleAdminKey  = "console-test-admin-key"
	consoleReadKey   = "console-test-read-key"
	consolePassword  = "a long enough password"
	consoleSubmitKey = "console-test-submit-key"
)

func writeConsoleConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	yaml := fmt.Sprintf(`database: { sqlite_path: %q, attachments_dir: %q }
log: { level: error }
api_keys:
  - { name: admin, sha256: %q, scopes: [admin] }
  - { name: reader, sha256: %q, scopes: [read] }
  - { name: crm, sha256: %q, scopes: [submit, read] }
`, filepath.Join(dir, "console.db"), filepath.Join(dir, "att"), sha(consoleAdminKey), sha(consoleReadKey), sha(consoleSubmitKey))
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runWithStdin runs the CLI with stdin.
func runWithStdin(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := rootCommand()
	var out strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestUserAdd(t *testing.T) {
	path := writeConsoleConfig(t)
	if out, err := runWithStdin(t, consolePassword+"\n", "user", "add", "alice", "--role", "admin", "--config", path); err != nil || !strings.Contains(out, "user alice (admin) created") {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	steps := []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"list"}, "alice                    admin     active"},
		{"", []string{"disable", "alice"}, "user alice (admin): disabled; its sessions ended"},
		{"", []string{"list"}, "alice                    admin     disabled"},
		{"", []string{"enable", "alice"}, "enabled"},
		{"", []string{"role", "alice", "viewer"}, "user alice (viewer): role changed"},
		{"another long password\n", []string{"passwd", "alice"}, "password changed"},
	}
	for _, st := range steps {
		out, err := runWithStdin(t, st.stdin, append(append([]string{"user"}, st.args...), "--config", path)...)
		if err != nil || !strings.Contains(out, st.want) {
			t.Fatalf("user %v: %v\n%s", st.args, err, out)
		}
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"disable", "nobody"}, "not found"},
		{"", []string{"role", "alice", "god"}, "role"},
		{"short\n", []string{"passwd", "alice"}, "at least 10 characters"},
		{consolePassword + "\n", []string{"alice", "--role", "viewer"}, "already exists"},
		{"short\n", []string{"bob", "--role", "viewer"}, "at least 10 characters"},
		{"", []string{"bob", "--role", "viewer"}, "no password"},
		{consolePassword + "\n", []string{"bob", "--role", "superuser"}, "--role must be"},
		{consolePassword + "\n", []string{"bad name!", "--role", "viewer"}, "user name"},
	} {
		args := tc.args
		if args[0] != "disable" && args[0] != "role" && args[0] != "passwd" {
			args = append([]string{"add"}, args...)
		}
		out, err := runWithStdin(t, tc.stdin, append(append([]string{"user"}, args...), "--config", path)...)
		if err == nil || !strings.Contains(err.Error()+out, tc.want) {
			t.Errorf("user add %v: %v, want an error with %q\n%s", tc.args, err, tc.want, out)
		}
	}
}

// TestConsoleThroughTheGateway drives the assembled gateway: a case submitted over REST shows
// up masked in the console, an operator's reveal is found through GET /v1/audit (admin scope
// only), and a correction comes out of classify export-corrections as a training example.
func TestConsoleThroughTheGateway(t *testing.T) {
	path := writeConsoleConfig(t)
	if _, err := runWithStdin(t, consolePassword+"\n", "user", "add", "alice", "--role", "admin", "--config", path); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, []string{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := assemble(context.Background(), cfg, logging.New(io.Discard, "error", "json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(a.handler)
	defer func() { srv.Close(); a.Close() }()
	client := srv.Client()
	client.Jar, _ = cookiejar.New(nil)

	do := func(method, p string, body io.Reader, header ...string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+p, body)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := do(http.MethodPost, "/v1/submissions", strings.NewReader(`{"channel":"phone","citizen":{"name":"李女士","phone":"13800138000"},
		"text":"环翠区文化路路灯坏了一周，晚上很黑。","location":{"address":"文化路12号"}}`),
		"Authorization", "Bearer "+consoleSubmitKey, "Content-Type", "application/json", "Idempotency-Key", "c-1")
	if status != http.StatusCreated {
		t.Fatalf("submission: %d %s", status, body)
	}
	var created struct {
		CaseNo string `json:"case_no"`
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil {
		t.Fatal(err)
	}

	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	_, login := do(http.MethodGet, "/console/login", nil)
	form := url.Values{"csrf": {csrf.FindStringSubmatch(login)[1]}, "name": {"alice"}, "password": {consolePassword}}
	status, home := do(http.MethodPost, "/console/login", strings.NewReader(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	if status != http.StatusOK || !strings.Contains(home, "运行概况") {
		t.Fatalf("sign-in: %d\n%s", status, home)
	}
	token := csrf.FindStringSubmatch(home)[1]
	_, list := do(http.MethodGet, "/console/cases", nil)
	if !strings.Contains(list, created.CaseNo) || strings.Contains(list, "13800138000") || !strings.Contains(list, "138****8000") {
		t.Fatalf("the case list does not show the case masked:\n%s", list)
	}
	status, revealed := do(http.MethodPost, "/console/cases/"+created.CaseNo+"/reveal", strings.NewReader(url.Values{"csrf": {token}}.Encode()),
		"Content-Type", "application/x-www-form-urlencoded")
	if status != http.StatusOK || !strings.Contains(revealed, "13800138000") {
		t.Fatalf("reveal: %d", status)
	}
	correction := url.Values{"csrf": {token}, "category": {"transport"}, "request_type": {"report"}, "emergency": {""}, "note": {"路灯"}}
	if status, page := do(http.MethodPost, "/console/cases/"+created.CaseNo+"/correct", strings.NewReader(correction.Encode()),
		"Content-Type", "application/x-www-form-urlencoded"); status != http.StatusOK {
		t.Fatalf("correction: %d\n%s", status, page)
	}

	status, audit := do(http.MethodGet, "/v1/audit?action=case.reveal", nil, "Authorization", "Bearer "+consoleAdminKey)
	var page struct {
		Entries []struct {
			Actor, Action, Target string
		}
	}
	if err := json.Unmarshal([]byte(audit), &page); status != http.StatusOK || err != nil {
		t.Fatalf("GET /v1/audit: %d %v\n%s", status, err, audit)
	}
	if len(page.Entries) != 1 || page.Entries[0].Actor != "alice" || page.Entries[0].Target != "case:"+created.CaseNo {
		t.Fatalf("audit entries %+v", page.Entries)
	}
	for _, tc := range []struct {
		key, query string
		status     int
	}{
		{consoleReadKey, "", http.StatusForbidden},
		{"", "", http.StatusUnauthorized},
		{consoleAdminKey, "?cursor=bogus", http.StatusBadRequest},
		{consoleAdminKey, "?limit=0", http.StatusBadRequest},
		{consoleAdminKey, "?colour=red", http.StatusBadRequest},
	} {
		var header []string
		if tc.key != "" {
			header = []string{"Authorization", "Bearer " + tc.key}
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v1/audit"+tc.query, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("/v1/audit%s with key %q: %d %s, want %d problem+json", tc.query, tc.key, resp.StatusCode, resp.Header.Get("Content-Type"), tc.status)
		}
	}
	a.Close()

	out, err := run(t, "classify", "export-corrections", "--config", path)
	if err != nil {
		t.Fatalf("export-corrections: %v\n%s", err, out)
	}
	examples, err := evaluate.ParseJSONL([]byte(out))
	if err != nil {
		t.Fatalf("the export is not a corpus the classifier reads: %v\n%s", err, out)
	}
	if len(examples) != 1 || examples[0].Category != "transport" || examples[0].RequestType != "report" || !strings.Contains(examples[0].Text, "路灯坏了一周") {
		t.Fatalf("exported %+v", examples)
	}

	today := time.Now().In(cfg.CaseNo.Location()).Format("2006-01-02")
	out, err = run(t, "report", "--from", today, "--to", today, "--csv", "--config", path)
	if err != nil || !strings.Contains(out, "total,,工单总量,1,") || !strings.Contains(out, "top_category,transport,") {
		t.Fatalf("report --csv: %v\n%s", err, out)
	}
	out, err = run(t, "report", "--from", today, "--to", today, "--config", path)
	if err != nil || !strings.Contains(out, "工单总量 1") || !strings.Contains(out, "前五类诉求") {
		t.Fatalf("report: %v\n%s", err, out)
	}
	if _, err := run(t, "report", "--from", "last week", "--to", today, "--config", path); err == nil {
		t.Fatal("report took a malformed date")
	}
}

func TestBootstrapAdminPrintsItsPasswordOnce(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "g.yaml")
	yaml := "database: { sqlite_path: " + filepath.Join(dir, "d.db") + " }\nconsole: { bootstrap_admin: boss }\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	boot := func() string {
		var out strings.Builder
		err := withStoreConfig(context.Background(), path, func(ctx context.Context, cfg *config.Config, st intake.Store) error {
			return bootstrapAdmin(ctx, cfg, st.(migratingStore), &out)
		})
		if err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	first := boot()
	m := regexp.MustCompile(`"boss" with the password (\S+)`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("no password printed:\n%s", first)
	}
	if second := boot(); second != "" {
		t.Fatalf("the second start printed %q", second)
	}
	err := withStore(context.Background(), path, func(ctx context.Context, st intake.Store) error {
		u, err := st.(intake.Operators).UserByName(ctx, "boss")
		if err != nil {
			return err
		}
		if ok, err := console.VerifyPassword(m[1], u.PasswordHash); !ok || err != nil || u.Role != intake.RoleAdmin {
			t.Errorf("the printed password does not sign boss in (%v, %v), role %s", ok, err, u.Role)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The dashboard's live stream, behind the whole gateway, outlives server.request_timeout and
// brings the count of a case submitted after it opened; the job UI and the channels page are
// mounted for an admin.
func TestConsoleLiveThroughTheGateway(t *testing.T) {
	path := writeConsoleConfig(t)
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("server: { request_timeout: 6s }\nconsole: { live_interval: 500ms }\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := runWithStdin(t, consolePassword+"\n", "user", "add", "alice", "--role", "admin", "--config", path); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, []string{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := assemble(context.Background(), cfg, logging.New(io.Discard, "error", "json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(a.handler)
	defer func() { srv.Close(); a.Close() }()
	client := srv.Client()
	client.Jar, _ = cookiejar.New(nil)
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	resp, err := client.Get(srv.URL + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	login, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{"csrf": {csrf.FindStringSubmatch(string(login))[1]}, "name": {"alice"}, "password": {consolePassword}}
	if resp, err = client.PostForm(srv.URL+"/console/login", form); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("sign-in: %d", resp.StatusCode)
	}
	resp.Body.Close()
	for _, p := range []string{"/console/jobs/", "/console/channels"} {
		resp, err := client.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", p, resp.StatusCode)
		}
		resp.Body.Close()
	}

	live, err := client.Get(srv.URL + "/console/live")
	if err != nil {
		t.Fatal(err)
	}
	if live.StatusCode != http.StatusOK {
		t.Fatalf("live: %d", live.StatusCode)
	}
	defer live.Body.Close()
	counts := make(chan string, 8)
	go func() {
		defer close(counts)
		sc := bufio.NewScanner(live.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				counts <- v
			}
		}
	}()
	next := func() string {
		t.Helper()
		select {
		case v := <-counts:
			return v
		case <-time.After(10 * time.Second):
			t.Fatal("no count within 10 s")
			return ""
		}
	}
	if first := next(); first != "0" {
		t.Fatalf("first count %q, want 0", first)
	}
	time.Sleep(6500 * time.Millisecond) // past the request timeout
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/submissions", strings.NewReader(`{"channel":"phone","citizen":{"phone":"13800138000"},
		"text":"环翠区文化路路灯坏了一周。"}`))
	req.Header.Set("Authorization", "Bearer "+consoleSubmitKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "live-1")
	if resp, err = client.Do(req); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("submission: %d", resp.StatusCode)
	}
	resp.Body.Close()
	if got := next(); got != "1" {
		t.Fatalf("count after a submission: %q, want 1", got)
	}
}
