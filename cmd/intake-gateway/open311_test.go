package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/internal/pgtest"
	"github.com/hotline12345/intake-gateway/store/sqlite"
)

// The Open311 loop through the assembled gateway: a reporting app files a request, the case is
// forwarded to the case system like any other and shows in the REST API, and the case system's
// event comes back through GET requests/{id} and servicerequestupdates.
func runOpen311Loop(t *testing.T, dbURL string) {
	var (
		mu       sync.Mutex
		received []map[string]any
	)
	caseSystem := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rec map[string]any
		_ = json.NewDecoder(r.Body).Decode(&rec)
		mu.Lock()
		received = append(received, rec)
		mu.Unlock()
		w.WriteHeader(201)
		_, _ = io.WriteString(w, `{"case_ref":"CS-311"}`)
	}))
	defer caseSystem.Close()

	dir := t.TempDir()
	yaml := fmt.Sprintf(`database: { url: %q, sqlite_path: %q }
log: { level: error }
case_no: { timezone: Asia/Shanghai }
api_keys:
  - { name: fms, sha256: "%s", scopes: [submit] }
  - { name: case-system, sha256: "%s", scopes: [events, read] }
case_systems: [{ name: default, url: %q, secret: cs-secret }]
forwarding: { retry_min: 50ms, retry_max: 200ms }
open311: { jurisdiction: 12345.example.gov.cn, contact: "12345热线" }
`, dbURL, filepath.Join(dir, "open311.db"), sha("fms-key"), sha(e2eKey), caseSystem.URL)
	a := assembleYAML(t, dir, yaml)
	srv := httptest.NewServer(a.handler)
	defer func() { srv.Close(); a.Close() }()

	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if st, body := get("/open311/v2/services.json"); st != 200 || !strings.Contains(body, `"service_code":"cityscape"`) || !strings.Contains(body, `"service_name":"市容环境"`) {
		t.Fatalf("services: %d %s", st, body)
	}

	form := url.Values{"api_key": {"fms-key"}, "jurisdiction_id": {"12345.example.gov.cn"}, "service_code": {"cityscape"},
		"lat": {"37.51"}, "long": {"122.12"}, "description": {"文化路12号门口路灯坏了一周，晚上很黑。"}}
	res, err := http.Post(srv.URL+"/open311/v2/requests.json", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	var created []struct {
		ID     string `json:"service_request_id"`
		Notice string `json:"service_notice"`
	}
	_ = json.NewDecoder(res.Body).Decode(&created)
	res.Body.Close()
	if res.StatusCode != 200 || len(created) != 1 || !strings.HasPrefix(created[0].ID, "WH") || !strings.Contains(created[0].Notice, created[0].ID) {
		t.Fatalf("POST requests: %d %+v", res.StatusCode, created)
	}
	id := created[0].ID

	waitFor(t, "case.created at the case system", func() bool { mu.Lock(); defer mu.Unlock(); return len(received) == 1 })
	mu.Lock()
	rec := received[0]
	mu.Unlock()
	if rec["case_no"] != id || rec["channel"] != "open311" || rec["channel_id"] != "open311:fms" {
		t.Fatalf("forwarded record: %v", rec)
	}
	if dbURL == "" {
		// The payload kept for audit is the form as it came, less the credential.
		db, err := sql.Open("sqlite", sqlite.DSN(filepath.Join(dir, "open311.db")))
		if err != nil {
			t.Fatal(err)
		}
		var body []byte
		err = db.QueryRow(`SELECT raw_body FROM cases WHERE case_no = ?`, id).Scan(&body)
		db.Close()
		if err != nil || strings.Contains(string(body), "fms-key") || strings.Contains(string(body), "api_key") ||
			!strings.Contains(string(body), "service_code=cityscape") {
			t.Fatalf("stored payload %q (%v) must be the form without its api_key", body, err)
		}
	}
	// The REST API (and so the console) shows it like any other case.
	req, _ := http.NewRequest("GET", srv.URL+"/v1/cases?channel=open311", nil)
	req.Header.Set("Authorization", "Bearer "+e2eKey)
	lres, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct {
		Cases []struct {
			CaseNo string `json:"case_no"`
		} `json:"cases"`
	}
	_ = json.NewDecoder(lres.Body).Decode(&page)
	lres.Body.Close()
	if len(page.Cases) != 1 || page.Cases[0].CaseNo != id {
		t.Fatalf("REST listing of channel open311: %+v", page)
	}

	event := fmt.Sprintf(`{"event_id":"cs-311-1","type":"assigned","at":%q,"department":"环翠区城管执法局","message":"已派单"}`, time.Now().UTC().Format(time.RFC3339))
	ereq, _ := http.NewRequest("POST", srv.URL+"/v1/cases/"+id+"/events", bytes.NewBufferString(event))
	ereq.Header.Set("Authorization", "Bearer "+e2eKey)
	ereq.Header.Set("Content-Type", "application/json")
	eres, err := http.DefaultClient.Do(ereq)
	if err != nil || eres.StatusCode != 200 {
		t.Fatalf("event: %v %v", eres.StatusCode, err)
	}
	eres.Body.Close()
	// Reads carry the filing client's key (open311.public_reads is off by default).
	st, body := get("/open311/v2/requests/" + id + ".xml?api_key=fms-key")
	if st != 200 || !strings.Contains(body, "<agency_responsible>环翠区城管执法局</agency_responsible>") || !strings.Contains(body, "<status_notes>已派单</status_notes>") ||
		!strings.Contains(body, "<status>open</status>") || !strings.Contains(body, "+08:00</requested_datetime>") {
		t.Fatalf("GET requests/{id}: %d %s", st, body)
	}
	st, body = get("/open311/v2/servicerequestupdates.xml?api_key=fms-key")
	if st != 200 || !strings.Contains(body, "<service_request_id>"+id+"</service_request_id>") || !strings.Contains(body, "<status>in_progress</status>") {
		t.Fatalf("servicerequestupdates: %d %s", st, body)
	}
	// A wrong key is 403 in the spec's format, and counts as a failed authentication.
	form.Set("api_key", "guess")
	bad, err := http.Post(srv.URL+"/open311/v2/requests.xml", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	bb, _ := io.ReadAll(bad.Body)
	bad.Body.Close()
	if bad.StatusCode != 403 || !strings.Contains(string(bb), "<code>403</code>") {
		t.Fatalf("bad api_key: %d %s", bad.StatusCode, bb)
	}
}

func TestOpen311LoopSQLite(t *testing.T) { runOpen311Loop(t, "") }

func TestOpen311LoopPostgres(t *testing.T) { runOpen311Loop(t, pgtest.NewDatabase(t, "", nil)) }

// config check reads the Open311 catalog, so a mistake in it is found before serve.
func TestConfigCheckReadsTheOpen311Catalog(t *testing.T) {
	dir := t.TempDir()
	catalog := filepath.Join(dir, "open311.yaml")
	if err := os.WriteFile(catalog, []byte("version: 1\nservices: { cityscape: { attributes: [{ code: x, datatype: colour, description: d }] } }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf("database: { sqlite_path: %q }\nopen311: { catalog_file: %q }\n", filepath.Join(dir, "x.db"), catalog)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := run(t, "config", "check", "--config", cfgPath)
	if err == nil || !strings.Contains(err.Error(), "open311.catalog_file") || !strings.Contains(err.Error(), `"colour"`) {
		t.Fatalf("a bad catalog: %v", err)
	}
}
