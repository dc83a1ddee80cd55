package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/api"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/metrics"
	"github.com/hotline12345/intake-gateway/media"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/sqlite"
)

// Keys used by the tests; the config holds only their SHA-256.
const (
	submitKey = "test-submit-key"
	readKey   = "test-read-key"
	eventsKey = "test-events-key"
	adminKey  = "test-admin-key"
)

func sha(s string) string {
	return fmt.Sprintf("%x", sha256Sum(s))
}

type env struct {
	t        *testing.T
	url      string
	store    intake.Store
	db       *sqlite.Store
	blobs    media.DirStore
	registry *prometheus.Registry
}

func limits() api.Limits {
	return api.Limits{MaxBodyBytes: 4096, MaxBatchLines: 5, MaxBatchBytes: 1 << 20,
		MaxFutureSkew: 5 * time.Minute, IdempotencyKey: 255}
}

func newEnv(t *testing.T, changes ...func(*api.Deps)) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "api.db"),
		Options: store.Options{CaseNoPrefix: "WH"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := serverOn(t, st, changes...)
	e.db = st
	return e
}

// serverOn serves the API over st; each change adjusts the dependencies first.
func serverOn(t *testing.T, st intake.Store, changes ...func(*api.Deps)) *env {
	t.Helper()
	reg := prometheus.NewRegistry()
	m := metrics.New(reg)
	blobs := media.DirStore{Dir: t.TempDir()}
	svc := app.NewIntake(st, nil, app.IntakeOptions{MaxTextChars: 100, MaxFutureSkew: 5 * time.Minute}, m)
	deps := api.Deps{
		Store: st, Submitter: svc, Limits: limits(), Registry: reg, Attachments: blobs,
		RequestTimeout: 3 * time.Second,
		APIKeys: []api.APIKey{
			{Name: "crm", SHA256: sha(submitKey), Scopes: []string{"submit", "read"}},
			{Name: "viewer", SHA256: sha(readKey), Scopes: []string{"read"}},
			{Name: "case-system", SHA256: sha(eventsKey), Scopes: []string{"events", "read"}},
			{Name: "ops", SHA256: sha(adminKey), Scopes: []string{"admin"}},
		},
	}
	for _, change := range changes {
		change(&deps)
	}
	e, err := api.New(deps)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	return &env{t: t, url: srv.URL, store: st, blobs: blobs, registry: reg}
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %s", r.status, r.body)
	}
	return m
}

func (e *env) do(method, path, key, contentType string, body []byte, headers map[string]string) resp {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header[http.CanonicalHeaderKey(k)] = []string{v}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

func (e *env) submit(body string, headers map[string]string) resp {
	e.t.Helper()
	return e.do("POST", "/v1/submissions", submitKey, "application/json", []byte(body), headers)
}

func (e *env) countCases() int {
	e.t.Helper()
	page, err := e.store.ListCases(context.Background(), intake.CaseFilter{Limit: 500})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(page.Cases)
}

func (e *env) countJobs() int {
	e.t.Helper()
	var n int
	if err := e.db.DB().QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'forward_case'`).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

const goodBody = `{"channel":"phone","citizen":{"name":"李女士","phone":"138-0013-8000"},` +
	`"text":"环翠区文化路路灯坏了一周，晚上很黑。","location":{"lat":37.51,"lng":122.12,"address":"文化路12号"},` +
	`"attachments":[{"kind":"image","url":"https://example.com/p.jpg","content_type":"image/jpeg"}],` +
	`"category":"urban_construction","request_type":"complaint","metadata":{"operator":"1024"}}`

func TestSubmitReadBackAndReplay(t *testing.T) {
	e := newEnv(t)
	r := e.submit(goodBody, map[string]string{"Idempotency-Key": "crm-1"})
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	created := r.json(t)
	id, caseNo := created["id"].(string), created["case_no"].(string)
	if r.header.Get("Location") != "/v1/cases/"+id {
		t.Fatalf("Location %q", r.header.Get("Location"))
	}
	if !strings.HasPrefix(caseNo, "WH") || len(created["query_code"].(string)) != 6 {
		t.Fatalf("case_no %q query_code %v", caseNo, created["query_code"])
	}
	cit := created["citizen"].(map[string]any)
	if cit["phone"] != "+8613800138000" || created["channel"] != "phone" || created["channel_id"] != "rest:crm" || created["external_id"] != "crm-1" {
		t.Fatalf("mapping: %s", r.body)
	}
	cl := created["classification"].(map[string]any)
	if cl["category"] != "urban_construction" || cl["request_type"] != "complaint" || cl["source"] != "operator" {
		t.Fatalf("operator classification lost: %v", cl)
	}

	for _, ref := range []string{id, caseNo} {
		g := e.do("GET", "/v1/cases/"+ref, readKey, "", nil, nil)
		if g.status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", ref, g.status, g.body)
		}
		got := g.json(t)
		if got["id"] != id || got["case_no"] != caseNo {
			t.Fatalf("GET %s returned another case", ref)
		}
		ds, _ := got["deliveries"].([]any)
		if len(ds) != 1 {
			t.Fatalf("deliveries %v", got["deliveries"])
		}
		d := ds[0].(map[string]any)
		if d["event"] != "case.created" || d["state"] != "queued" {
			t.Fatalf("delivery %v", d)
		}
	}
	if n := e.countJobs(); n != 1 {
		t.Fatalf("%d jobs queued, want 1", n)
	}
	// The photo the operator attached to a phone case is fetched into the gateway by a job.
	var fetches int
	_ = e.db.DB().QueryRow(`SELECT count(*) FROM river_job WHERE kind = 'fetch_media'`).Scan(&fetches)
	if fetches != 1 {
		t.Fatalf("%d fetch jobs, want 1", fetches)
	}

	// A retry with the key and an equivalent body (other key order, spacing) replays.
	var reordered map[string]any
	_ = json.Unmarshal([]byte(goodBody), &reordered)
	again, _ := json.MarshalIndent(reordered, "", "  ")
	r2 := e.submit(string(again), map[string]string{"Idempotency-Key": "crm-1"})
	if r2.status != http.StatusOK || r2.header.Get("Idempotent-Replayed") != "true" || r2.json(t)["id"] != id {
		t.Fatalf("replay: %d %v %s", r2.status, r2.header, r2.body)
	}
	// Without a key, a byte-identical resend is still recognised.
	r3 := e.submit(`{"text":"同一内容"}`, nil)
	r4 := e.submit(`{"text":"同一内容"}`, nil)
	if r3.status != 201 || r4.status != 200 || r3.json(t)["id"] != r4.json(t)["id"] {
		t.Fatalf("keyless resend: %d %d", r3.status, r4.status)
	}
	if n := e.countCases(); n != 2 {
		t.Fatalf("%d cases, want 2", n)
	}
	if n := e.countJobs(); n != 2 {
		t.Fatalf("%d jobs, want 2", n)
	}
}

func TestInvalidPhoneKeepsTheCase(t *testing.T) {
	e := newEnv(t)
	r := e.submit(`{"citizen":{"phone":"12345"},"text":"电话号码写错了也要受理"}`, nil)
	if r.status != 201 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	cit := r.json(t)["citizen"].(map[string]any)
	if cit["phone_raw"] != "12345" || cit["phone_invalid"] != true || cit["phone"] != nil {
		t.Fatalf("citizen %v", cit)
	}
}

// manyKeys writes n members "k0":"v", "k1":"v", ….
func manyKeys(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%d":"v"`, i)
	}
	return strings.Join(parts, ",")
}

func TestBadInputChangesNothing(t *testing.T) {
	long := strings.Repeat("很", 101)
	huge := `{"text":"` + strings.Repeat("a", 5000) + `"}`
	future := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
	cases := []struct {
		name        string
		key         string
		contentType string
		body        string
		headers     map[string]string
		status      int
		kind        string
		field       string
	}{
		{"invalid JSON", submitKey, "application/json", `{"text":`, nil, 400, "invalid-json", ""},
		{"not an object", submitKey, "application/json", `["text"]`, nil, 400, "validation", ""},
		{"trailing data", submitKey, "application/json", `{"text":"a"} {"text":"b"}`, nil, 400, "invalid-json", ""},
		{"empty body", submitKey, "application/json", ``, nil, 400, "invalid-json", ""},
		{"wrong content type", submitKey, "text/plain", `{"text":"a"}`, nil, 415, "unsupported-media-type", ""},
		{"no content type", submitKey, "", `{"text":"a"}`, nil, 415, "unsupported-media-type", ""},
		{"missing text", submitKey, "application/json", `{"citizen":{"name":"王"}}`, nil, 400, "validation", "text"},
		{"blank text", submitKey, "application/json", `{"text":"  \u3000 "}`, nil, 400, "validation", "text"},
		{"text over the limit", submitKey, "application/json", `{"text":"` + long + `"}`, nil, 400, "validation", "text"},
		{"invalid UTF-8", submitKey, "application/json", "{\"text\":\"\xff\xfe\"}", nil, 400, "invalid-utf8", ""},
		{"unknown field", submitKey, "application/json", `{"text":"a","bogus":1}`, nil, 400, "validation", "bogus"},
		{"unknown nested field", submitKey, "application/json", `{"text":"a","citizen":{"age":3}}`, nil, 400, "validation", "age"},
		{"wrong type", submitKey, "application/json", `{"text":5}`, nil, 400, "validation", "text"},
		{"timestamp does not parse", submitKey, "application/json", `{"text":"a","occurred_at":"yesterday"}`, nil, 400, "validation", "occurred_at"},
		{"timestamp without zone", submitKey, "application/json", `{"text":"a","occurred_at":"2026-11-27T10:00:00"}`, nil, 400, "validation", "occurred_at"},
		{"timestamp far in the future", submitKey, "application/json", `{"text":"a","occurred_at":"` + future + `"}`, nil, 422, "timestamp-out-of-range", "occurred_at"},
		{"timestamp before 2000", submitKey, "application/json", `{"text":"a","occurred_at":"1999-12-31T23:59:59+08:00"}`, nil, 422, "timestamp-out-of-range", "occurred_at"},
		{"timestamp at the Unix epoch", submitKey, "application/json", `{"text":"a","occurred_at":"1970-01-01T00:00:00Z"}`, nil, 422, "timestamp-out-of-range", "occurred_at"},
		{"duplicate member", submitKey, "application/json", `{"text":"路灯坏了","text":"另一段文字"}`, nil, 400, "invalid-json", "text"},
		{"duplicate nested member", submitKey, "application/json", `{"text":"a","citizen":{"phone":"13800138000","phone":"13900139000"}}`, nil, 400, "invalid-json", "citizen.phone"},
		{"duplicate member in an attachment", submitKey, "application/json", `{"text":"a","attachments":[{"kind":"link","url":"https://a.example/","url":"https://b.example/"}]}`, nil, 400, "invalid-json", "attachments[0].url"},
		{"only control characters", submitKey, "application/json", `{"text":"\u0000\u0007\u001b\u200b"}`, nil, 400, "validation", "text"},
		{"JSON null", submitKey, "application/json", `null`, nil, 400, "validation", "text"},
		{"a bare number", submitKey, "application/json", `5`, nil, 400, "validation", ""},
		{"byte-order mark", submitKey, "application/json", "\ufeff{\"text\":\"a\"}", nil, 400, "invalid-json", ""},
		{"deeply nested", submitKey, "application/json", `{"text":"a","metadata":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`, nil, 400, "validation", ""},
		{"name over the limit", submitKey, "application/json", `{"text":"a","citizen":{"name":"` + strings.Repeat("王", 101) + `"}}`, nil, 400, "validation", "citizen.name"},
		{"phone over the limit", submitKey, "application/json", `{"text":"a","citizen":{"phone":"` + strings.Repeat("1", 65) + `"}}`, nil, 400, "validation", "citizen.phone"},
		{"too many attachments", submitKey, "application/json", `{"text":"a","attachments":[` + strings.TrimSuffix(strings.Repeat(`{"kind":"link","url":"https://a.example/"},`, 21), ",") + `]}`, nil, 400, "validation", "attachments"},
		{"too many metadata keys", submitKey, "application/json", `{"text":"a","metadata":{` + manyKeys(51) + `}}`, nil, 400, "validation", "metadata"},
		{"metadata value over the limit", submitKey, "application/json", `{"text":"a","metadata":{"k":"` + strings.Repeat("x", 1001) + `"}}`, nil, 400, "validation", "metadata.k"},
		{"address over the limit", submitKey, "application/json", `{"text":"a","location":{"address":"` + strings.Repeat("路", 501) + `"}}`, nil, 400, "validation", "location.address"},
		{"attachment URL over the limit", submitKey, "application/json", `{"text":"a","attachments":[{"kind":"link","url":"https://a.example/` + strings.Repeat("x", 2048) + `"}]}`, nil, 400, "validation", "attachments[0].url"},
		{"JSON with a charset the API does not read", submitKey, "application/json; charset=gbk", "{\"text\":\"\xc2\xb7\xb5\xc6\"}", nil, 400, "invalid-utf8", ""},
		{"unknown channel", submitKey, "application/json", `{"text":"a","channel":"fax"}`, nil, 400, "validation", "channel"},
		{"unknown request type", submitKey, "application/json", `{"text":"a","request_type":"rant"}`, nil, 400, "validation", "request_type"},
		{"latitude out of range", submitKey, "application/json", `{"text":"a","location":{"lat":200,"lng":1}}`, nil, 400, "validation", "location.lat"},
		{"lat without lng", submitKey, "application/json", `{"text":"a","location":{"lat":20}}`, nil, 400, "validation", "location"},
		{"attachment URL not a URL", submitKey, "application/json", `{"text":"a","attachments":[{"kind":"image","url":"not a url"}]}`, nil, 400, "validation", "attachments[0].url"},
		{"attachment file: URL", submitKey, "application/json", `{"channel":"phone","text":"x","attachments":[{"kind":"file","url":"file:///etc/passwd"}]}`, nil, 422, "unsupported-url-scheme", "attachments[0].url"},
		{"attachment gopher: URL", submitKey, "application/json", `{"text":"x","attachments":[{"kind":"link","url":"https://ok.example/a"},{"kind":"file","url":"gopher://127.0.0.1:6379/_FLUSHALL"}]}`, nil, 422, "unsupported-url-scheme", "attachments[1].url"},
		{"attachment ftp: URL", submitKey, "application/json", `{"text":"x","attachments":[{"kind":"audio","url":"FTP://10.0.0.1/rec.wav"}]}`, nil, 422, "unsupported-url-scheme", "attachments[0].url"},
		{"attachment data: URL", submitKey, "application/json", `{"text":"x","attachments":[{"kind":"image","url":"data:image/png;base64,iVBORw0KGgo="}]}`, nil, 422, "unsupported-url-scheme", "attachments[0].url"},
		{"attachment javascript: link", submitKey, "application/json", `{"text":"x","attachments":[{"kind":"link","url":" javascript:alert(1)"}]}`, nil, 422, "unsupported-url-scheme", "attachments[0].url"},
		{"attachment kind unknown", submitKey, "application/json", `{"text":"a","attachments":[{"kind":"hologram","url":"https://x.y/z"}]}`, nil, 400, "validation", "attachments[0].kind"},
		{"over-long Idempotency-Key", submitKey, "application/json", `{"text":"a"}`, map[string]string{"Idempotency-Key": strings.Repeat("k", 256)}, 400, "validation", "Idempotency-Key"},
		{"empty Idempotency-Key", submitKey, "application/json", `{"text":"a"}`, map[string]string{"Idempotency-Key": ""}, 400, "validation", "Idempotency-Key"},
		{"Idempotency-Key with spaces", submitKey, "application/json", `{"text":"a"}`, map[string]string{"Idempotency-Key": "a b"}, 400, "validation", "Idempotency-Key"},
		{"body over the limit", submitKey, "application/json", huge, nil, 413, "too-large", ""},
		{"missing API key", "", "application/json", `{"text":"a"}`, nil, 401, "unauthorized", ""},
		{"unknown API key", "nope", "application/json", `{"text":"a"}`, nil, 401, "unauthorized", ""},
		{"key without submit scope", readKey, "application/json", `{"text":"a"}`, nil, 403, "forbidden", ""},
	}
	e := newEnv(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			r := e.do("POST", "/v1/submissions", tc.key, tc.contentType, []byte(tc.body), tc.headers)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != api.ProblemContentType {
				t.Fatalf("Content-Type %q, want problem+json", ct)
			}
			p := r.json(t)
			if p["status"] != float64(tc.status) || !strings.HasSuffix(p["type"].(string), "#"+tc.kind) || p["title"] == "" {
				t.Fatalf("problem %s", r.body)
			}
			if tc.field != "" {
				errs, _ := p["errors"].([]any)
				found := false
				for _, fe := range errs {
					if fe.(map[string]any)["field"] == tc.field {
						found = true
					}
				}
				if !found {
					t.Fatalf("errors do not name %q: %s", tc.field, r.body)
				}
			}
			if tc.status == 401 && r.header.Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
			if n := e.countCases(); n != 0 {
				t.Fatalf("bad input stored %d cases", n)
			}
			if n := e.countJobs(); n != 0 {
				t.Fatalf("bad input queued %d jobs", n)
			}
		})
	}
}

func TestSameKeyDifferentBodyIsAConflict(t *testing.T) {
	e := newEnv(t)
	if r := e.submit(`{"text":"第一次"}`, map[string]string{"Idempotency-Key": "k1"}); r.status != 201 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	r := e.submit(`{"text":"换了内容"}`, map[string]string{"Idempotency-Key": "k1"})
	if r.status != http.StatusConflict || !strings.HasSuffix(r.json(t)["type"].(string), "#idempotency-conflict") {
		t.Fatalf("%d %s", r.status, r.body)
	}
	if e.countCases() != 1 || e.countJobs() != 1 {
		t.Fatal("a conflicting retry changed the store")
	}
}

func TestConcurrentIdenticalSubmissionsMakeOneCase(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	ids := make([]string, 50)
	statuses := make([]int, 50)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", e.url+"/v1/submissions", strings.NewReader(goodBody))
			req.Header.Set("Authorization", "Bearer "+submitKey)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "race-1")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			defer res.Body.Close()
			var m map[string]any
			_ = json.NewDecoder(res.Body).Decode(&m)
			statuses[i] = res.StatusCode
			ids[i], _ = m["id"].(string)
		}()
	}
	wg.Wait()
	created := 0
	for i := range ids {
		if ids[i] == "" || ids[i] != ids[0] {
			t.Fatalf("copy %d got id %q, copy 0 got %q", i, ids[i], ids[0])
		}
		if statuses[i] == 201 {
			created++
		} else if statuses[i] != 200 {
			t.Fatalf("copy %d: status %d", i, statuses[i])
		}
	}
	if created != 1 || e.countCases() != 1 || e.countJobs() != 1 {
		t.Fatalf("created %d, cases %d, jobs %d", created, e.countCases(), e.countJobs())
	}
}

// A batch line with an attachment URL of another scheme fails alone, with the problem a single
// submission would get (422), and stores nothing; the good line beside it is stored.
func TestBatchLineWithForeignURLScheme(t *testing.T) {
	e := newEnv(t)
	body := `{"channel":"phone","text":"录音","attachments":[{"kind":"audio","url":"file:///var/lib/secret.wav"}]}` + "\n" +
		`{"text":"第二行：路灯不亮"}`
	r := e.do("POST", "/v1/submissions:batch", submitKey, "application/x-ndjson", []byte(body), nil)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var out struct {
		Created, Failed int
		Results         []struct {
			Status string
			Error  *struct {
				Type   string
				Status int
				Errors []struct{ Field, Reason string }
			}
		}
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	if out.Created != 1 || out.Failed != 1 || out.Results[0].Error == nil {
		t.Fatalf("batch result %s", r.body)
	}
	pe := out.Results[0].Error
	if pe.Status != 422 || !strings.HasSuffix(pe.Type, "#unsupported-url-scheme") || len(pe.Errors) != 1 ||
		pe.Errors[0].Field != "attachments[0].url" || pe.Errors[0].Reason != intake.ReasonURLScheme {
		t.Fatalf("line 1 problem: %s", r.body)
	}
	if e.countCases() != 1 || e.countJobs() != 1 {
		t.Fatalf("cases %d jobs %d, want the good line only", e.countCases(), e.countJobs())
	}
}

func TestBatchPartialSuccessAndRetry(t *testing.T) {
	e := newEnv(t)
	body := strings.Join([]string{
		`{"text":"第一行：小区垃圾没人清运"}`,
		`{"text":`,
		``,
		`{"text":"第四行：路面塌陷","idempotency_key":"own-key-4"}`,
		`{"text":"第五行","bogus":true}`,
		`{"text":"第六行：噪音扰民","citizen":{"phone":"13900001111"}}`,
	}, "\n")
	post := func() resp {
		return e.do("POST", "/v1/submissions:batch", submitKey, "application/x-ndjson", []byte(body), map[string]string{"Idempotency-Key": "batch-7"})
	}
	r := post()
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.body)
	}
	var out struct {
		Created, Duplicates, Failed int
		Results                     []struct {
			Line   int
			Status string
			CaseNo string `json:"case_no"`
			Error  *struct{ Errors []struct{ Field string } }
		}
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	if out.Created != 3 || out.Failed != 2 || len(out.Results) != 5 {
		t.Fatalf("batch result %s", r.body)
	}
	wantLines := []int{1, 2, 4, 5, 6}
	wantStatus := []string{"created", "error", "created", "error", "created"}
	for i, res := range out.Results {
		if res.Line != wantLines[i] || res.Status != wantStatus[i] {
			t.Fatalf("result %d: line %d status %s, want line %d %s", i, res.Line, res.Status, wantLines[i], wantStatus[i])
		}
	}
	if out.Results[3].Error == nil || len(out.Results[3].Error.Errors) == 0 || out.Results[3].Error.Errors[0].Field != "bogus" {
		t.Fatalf("line 5 error should name the field: %s", r.body)
	}
	if e.countCases() != 3 || e.countJobs() != 3 {
		t.Fatalf("cases %d jobs %d", e.countCases(), e.countJobs())
	}
	// Resending the whole batch duplicates nothing.
	var again struct{ Created, Duplicates, Failed int }
	_ = json.Unmarshal(post().body, &again)
	if again.Created != 0 || again.Duplicates != 3 || again.Failed != 2 || e.countCases() != 3 {
		t.Fatalf("resent batch: %+v, cases %d", again, e.countCases())
	}

	tooMany := strings.Repeat(`{"text":"x"}`+"\n", 6)
	if r := e.do("POST", "/v1/submissions:batch", submitKey, "application/x-ndjson", []byte(tooMany), nil); r.status != 413 {
		t.Fatalf("too many lines: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/submissions:batch", submitKey, "application/json", []byte(`{"text":"x"}`), nil); r.status != 415 {
		t.Fatalf("wrong content type: %d", r.status)
	}
	if r := e.do("POST", "/v1/submissions:batch", submitKey, "application/x-ndjson", []byte("\n\n"), nil); r.status != 400 {
		t.Fatalf("empty batch: %d", r.status)
	}
	if e.countCases() != 3 {
		t.Fatal("rejected batches stored cases")
	}
}

func TestListAndFilters(t *testing.T) {
	e := newEnv(t)
	for i := range 7 {
		ch := "rest"
		if i%2 == 0 {
			ch = "wechat"
		}
		if r := e.submit(fmt.Sprintf(`{"text":"第%d件","channel":%q}`, i, ch), nil); r.status != 201 {
			t.Fatalf("%d %s", r.status, r.body)
		}
	}
	seen := map[string]bool{}
	path := "/v1/cases?limit=3"
	for pages := 0; path != ""; pages++ {
		r := e.do("GET", path, readKey, "", nil, nil)
		if r.status != 200 || pages > 5 {
			t.Fatalf("%d %s", r.status, r.body)
		}
		var page struct {
			Cases      []struct{ ID string }
			NextCursor *string `json:"next_cursor"`
		}
		_ = json.Unmarshal(r.body, &page)
		for _, c := range page.Cases {
			if seen[c.ID] {
				t.Fatalf("case %s listed twice", c.ID)
			}
			seen[c.ID] = true
		}
		path = ""
		if page.NextCursor != nil {
			path = "/v1/cases?limit=3&cursor=" + *page.NextCursor
		}
	}
	if len(seen) != 7 {
		t.Fatalf("listed %d cases, want 7", len(seen))
	}
	r := e.do("GET", "/v1/cases?channel=wechat", readKey, "", nil, nil)
	var page struct{ Cases []struct{ Channel string } }
	_ = json.Unmarshal(r.body, &page)
	if len(page.Cases) != 4 {
		t.Fatalf("wechat filter: %d cases", len(page.Cases))
	}
	for _, c := range page.Cases {
		if c.Channel != "wechat" {
			t.Fatalf("filter leaked %s", c.Channel)
		}
	}
	from := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	if r := e.do("GET", "/v1/cases?received_from="+from, readKey, "", nil, nil); r.status != 200 || strings.Contains(string(r.body), `"id"`) {
		t.Fatalf("future range: %d %s", r.status, r.body)
	}
	for _, bad := range []string{"?limit=0", "?limit=999", "?channel=fax", "?status=lost", "?cursor=garbage", "?received_from=yesterday",
		"?received_from=2026-11-27T10:00:00Z&received_to=2026-11-27T09:00:00Z"} {
		if r := e.do("GET", "/v1/cases"+bad, readKey, "", nil, nil); r.status != 400 || r.header.Get("Content-Type") != api.ProblemContentType {
			t.Fatalf("GET /v1/cases%s: %d %s", bad, r.status, r.body)
		}
	}
	if r := e.do("GET", "/v1/cases/WH2099010100001", readKey, "", nil, nil); r.status != 404 {
		t.Fatalf("unknown case: %d", r.status)
	}
	if r := e.do("GET", "/v1/cases", "", "", nil, nil); r.status != 401 {
		t.Fatalf("no key: %d", r.status)
	}
}

func TestOperationsEndpoints(t *testing.T) {
	e := newEnv(t)
	if r := e.submit(`{"text":"计数用","channel":"sms"}`, nil); r.status != 201 {
		t.Fatal(r.status)
	}
	if r := e.do("GET", "/healthz", "", "", nil, nil); r.status != 200 {
		t.Fatalf("healthz %d", r.status)
	}
	if r := e.do("GET", "/readyz", "", "", nil, nil); r.status != 200 || r.json(t)["status"] != "ok" {
		t.Fatalf("readyz %d %s", r.status, r.body)
	}
	// Metrics are for operators, on the admin listener only: the public server does not have them.
	if r := e.do("GET", "/metrics", "", "", nil, nil); r.status != 404 {
		t.Fatalf("public /metrics: %d", r.status)
	}
	admin := httptest.NewServer(api.MetricsHandler(e.registry))
	defer admin.Close()
	m := e.doAt(admin.URL, "GET", "/metrics")
	if !regexp.MustCompile(`intake_cases_created_total\{category="[a-z_]+",channel="sms"\} 1`).Match(m.body) {
		t.Fatalf("metrics lack the SMS case by category: %s", m.body)
	}
	for _, want := range []string{`intake_http_requests_total{code="201",host="",method="POST",url="/v1/submissions"} 1`, "intake_http_request_duration_seconds_bucket"} {
		if !strings.Contains(string(m.body), want) {
			t.Fatalf("metrics lack %q", want)
		}
	}
	if r := e.do("GET", "/openapi.yaml", "", "", nil, nil); r.status != 200 || !bytes.Equal(r.body, api.Spec()) {
		t.Fatal("openapi.yaml not served")
	}
	d := e.do("GET", "/docs", "", "", nil, nil)
	if d.status != 200 || !strings.Contains(string(d.body), "/v1/submissions:batch") || strings.Contains(string(d.body), "<script") {
		t.Fatalf("docs: %d", d.status)
	}
	if r := e.do("GET", "/nowhere", "", "", nil, nil); r.status != 404 || r.header.Get("Content-Type") != api.ProblemContentType {
		t.Fatalf("unknown route: %d %s", r.status, r.header.Get("Content-Type"))
	}
}

// A store that cannot be reached must turn into a 503 that tells the client to retry, never a
// 2xx: nothing was acknowledged.
func TestStoreDownIs503(t *testing.T) {
	st := &downStore{}
	e := serverOn(t, st)
	r := e.submit(`{"text":"数据库宕机时提交"}`, nil)
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" || r.header.Get("Content-Type") != api.ProblemContentType {
		t.Fatalf("%d %v %s", r.status, r.header, r.body)
	}
	if r := e.do("GET", "/readyz", "", "", nil, nil); r.status != 503 {
		t.Fatalf("readyz with the store down: %d", r.status)
	}
}

type downStore struct{ intake.Store }

func (downStore) CreateCase(context.Context, intake.NewCase) (intake.CreateResult, error) {
	return intake.CreateResult{}, fmt.Errorf("%w: connection refused", intake.ErrUnavailable)
}
func (downStore) Ready(context.Context) error {
	return fmt.Errorf("%w: connection refused", intake.ErrUnavailable)
}

func TestAttachments(t *testing.T) {
	e := newEnv(t)
	id := "0192f0c4-0000-7000-8000-000000000001"
	if err := e.blobs.Put(context.Background(), id, media.Blob{Body: []byte("\xff\xd8img"), ContentType: "image/jpeg"}); err != nil {
		t.Fatal(err)
	}
	r := e.do("GET", "/v1/attachments/"+id, readKey, "", nil, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "image/jpeg" || string(r.body) != "\xff\xd8img" || r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("%d %v %q", r.status, r.header, r.body)
	}
	if r := e.do("GET", "/v1/attachments/0192f0c4-0000-7000-8000-000000000002", readKey, "", nil, nil); r.status != 404 {
		t.Fatalf("unknown: %d", r.status)
	}
	if r := e.do("GET", "/v1/attachments/..%2F..%2Fetc", readKey, "", nil, nil); r.status != 404 {
		t.Fatalf("traversal: %d", r.status)
	}
	if r := e.do("GET", "/v1/attachments/"+id, "", "", nil, nil); r.status != 401 {
		t.Fatalf("no key: %d", r.status)
	}
}
