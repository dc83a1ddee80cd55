package main

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

// collector is an OTLP/HTTP receiver: it decodes what the gateway exports as a real collector
// would.
type collector struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "want protobuf on /v1/traces", http.StatusBadRequest)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(raw, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			c.spans = append(c.spans, ss.Spans...)
		}
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	_, _ = w.Write(out)
}

func (c *collector) all() []*tracepb.Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*tracepb.Span(nil), c.spans...)
}

// With telemetry.otlp_endpoint set, a submission is traced from the request through the store
// and the forwarding job to the case system, which receives a traceparent of that trace; and no
// span carries the citizen's phone, name or words, or an API key from a query string.
func runTracing(t *testing.T, dbURL string) {
	col := &collector{}
	otlp := httptest.NewServer(col)
	defer otlp.Close()

	var (
		mu          sync.Mutex
		traceparent string
	)
	caseSystem := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		traceparent = r.Header.Get("traceparent")
		mu.Unlock()
		w.WriteHeader(201)
		_, _ = io.WriteString(w, `{"case_ref":"CS-T1"}`)
	}))
	defer caseSystem.Close()

	dir := t.TempDir()
	yaml := fmt.Sprintf(`database: { url: %q, sqlite_path: %q }
log: { level: error }
api_keys:
  - { name: crm, sha256: "%s", scopes: [submit, read] }
case_systems: [{ name: default, url: %q, secret: cs-secret }]
forwarding: { retry_min: 50ms, retry_max: 200ms }
telemetry: { otlp_endpoint: %q }
`, dbURL, filepath.Join(dir, "t.db"), sha("crm-secret-key"), caseSystem.URL, otlp.URL)
	a := assembleYAML(t, dir, yaml)
	srv := httptest.NewServer(a.handler)
	closed := false
	defer func() {
		if !closed {
			srv.Close()
			a.Close()
		}
	}()

	const phone, name, words = "13912345678", "林秀英", "楼道里的灯坏了三天"
	body := fmt.Sprintf(`{"channel":"rest","citizen":{"name":%q,"phone":%q},"text":"%s，请尽快修理。"}`, name, phone, words)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/submissions?trace_marker=crm-secret-key", bytes.NewBufferString(body))
	req.Header.Set("Authorization", "Bearer crm-secret-key")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "trace-1")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("submission: %d", res.StatusCode)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		tp := traceparent
		mu.Unlock()
		if tp != "" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Closing flushes the spans still buffered.
	srv.Close()
	a.Close()
	closed = true

	mu.Lock()
	tp := traceparent
	mu.Unlock()
	parts := strings.Split(tp, "-")
	if len(parts) != 4 || len(parts[1]) != 32 {
		t.Fatalf("the case system got traceparent %q", tp)
	}
	spans := col.all()
	byTrace := map[string][]string{}
	var intake *tracepb.Span
	for _, s := range spans {
		id := hex.EncodeToString(s.TraceId)
		byTrace[id] = append(byTrace[id], s.Name)
		if s.Name == "POST /v1/submissions" && s.Kind == tracepb.Span_SPAN_KIND_SERVER {
			intake = s
		}
	}
	if intake == nil {
		t.Fatalf("no server span named by its route; spans: %v", byTrace)
	}
	if names := strings.Join(byTrace[hex.EncodeToString(intake.TraceId)], ","); !strings.Contains(names, "river.insert") {
		t.Errorf("the submission's trace does not show the job enqueued in its transaction: %s", names)
	}
	if dbURL != "" && !strings.Contains(strings.Join(byTrace[hex.EncodeToString(intake.TraceId)], ","), "query") {
		t.Errorf("the submission's trace has no database spans: %v", byTrace[hex.EncodeToString(intake.TraceId)])
	}
	// The delivery the case system received belongs to a traced job that links back to the
	// submission's trace.
	fwd := byTrace[parts[1]]
	if len(fwd) == 0 {
		t.Fatalf("the traceparent sent (%s) names no exported trace; traces: %v", tp, byTrace)
	}
	linked := false
	for _, s := range spans {
		if hex.EncodeToString(s.TraceId) != parts[1] {
			continue
		}
		for _, l := range s.Links {
			if hex.EncodeToString(l.TraceId) == hex.EncodeToString(intake.TraceId) {
				linked = true
			}
		}
	}
	if !linked {
		t.Errorf("the forwarding trace (%v) has no link to the submission's trace", fwd)
	}
	// No personal data and no credential anywhere in what was exported.
	for _, s := range spans {
		for _, kv := range s.Attributes {
			v := kv.Value.String()
			for _, secret := range []string{phone, "3912345678", name, words, "crm-secret-key", "trace_marker"} {
				if strings.Contains(v, secret) {
					t.Errorf("span %q attribute %s carries %q: %s", s.Name, kv.Key, secret, v)
				}
			}
		}
	}
}

func TestTracingSQLite(t *testing.T)   { runTracing(t, "") }
func TestTracingPostgres(t *testing.T) { runTracing(t, pgtest.NewDatabase(t, "", nil)) }

// Calls to a messaging platform are traced as client spans, but the platform (a third party)
// gets no trace context: neither the API calls (token, customer-service send) nor the media
// download, which goes through the media policy's own transport.
func TestPlatformCallsTracedWithoutTraceContext(t *testing.T) {
	col := &collector{}
	otlp := httptest.NewServer(col)
	defer otlp.Close()
	wxAPI := wxtest.NewFakeAPI(e2eAccount.AppID, "secret")
	defer wxAPI.Close()
	wxAPI.PutMedia("media_2002", wxtest.FakeMedia{ContentType: "image/jpeg", Body: []byte("\xff\xd8\xff\xe0 photo")})
	var (
		mu      sync.Mutex
		calls   []string
		leaked  []string
		backend = httputil.NewSingleHostReverseProxy(mustParseURL(t, wxAPI.URL))
	)
	platform := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls = append(calls, r.Method+" "+r.URL.Path)
		for _, h := range []string{"traceparent", "tracestate", "baggage"} {
			if v := r.Header.Get(h); v != "" {
				leaked = append(leaked, r.URL.Path+" "+h+": "+v)
			}
		}
		mu.Unlock()
		backend.ServeHTTP(w, r)
	}))
	defer platform.Close()

	dir := t.TempDir()
	yaml := fmt.Sprintf(`database: { sqlite_path: %q, attachments_dir: %q }
log: { level: error }
api_keys: [{ name: case-system, sha256: "%s", scopes: [events, read] }]
media: { allow_private_networks: true, allow_http: true }
telemetry: { otlp_endpoint: %q }
channels:
  - { id: wechat-main, type: wechat, app_id: %s, app_secret: secret, token: %s, encoding_aes_key: %s, mode: safe, account_id: %s, api_base_url: %q }
`, filepath.Join(dir, "t.db"), filepath.Join(dir, "attachments"), sha(e2eKey), otlp.URL,
		e2eAccount.AppID, e2eAccount.Token, e2eAccount.EncodingAESKey, e2eAccount.GhID, platform.URL)
	a := assembleYAML(t, dir, yaml)
	srv := httptest.NewServer(a.handler)
	closed := false
	defer func() {
		if !closed {
			srv.Close()
			a.Close()
		}
	}()

	_, reply := push(t, srv, textMsg("oTrace", "2001", "小区门口的路灯坏了一周了"))
	caseNo := reply[strings.Index(reply, "WH") : strings.Index(reply, "WH")+15]
	push(t, srv, imageMsg("oTrace", "2002"))
	event := fmt.Sprintf(`{"event_id":"tr-ev-1","type":"resolved","at":%q,"message":"路灯已更换","notify":true}`, time.Now().UTC().Format(time.RFC3339))
	req, _ := http.NewRequest("POST", srv.URL+"/v1/cases/"+caseNo+"/events", strings.NewReader(event))
	req.Header.Set("Authorization", "Bearer "+e2eKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("event: %d", res.StatusCode)
	}
	seen := func(call string) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range calls {
			if c == call {
				return true
			}
		}
		return false
	}
	waitFor(t, "the photo downloaded and the citizen told", func() bool {
		return seen("GET /cgi-bin/media/get") && len(wxAPI.Sent()) >= 1
	})
	srv.Close()
	a.Close()
	closed = true

	mu.Lock()
	defer mu.Unlock()
	if len(leaked) > 0 {
		t.Errorf("the platform was sent trace context: %v", leaked)
	}
	host := strings.TrimPrefix(platform.URL, "http://")
	clientSpans := map[string]bool{}
	for _, s := range col.all() {
		if s.Kind == tracepb.Span_SPAN_KIND_CLIENT && strings.HasSuffix(s.Name, " "+host) {
			clientSpans[s.Name] = true
			for _, kv := range s.Attributes {
				if v := kv.Value.String(); strings.Contains(v, "access_token") || strings.Contains(v, "oTrace") || strings.Contains(v, "secret") {
					t.Errorf("span %q attribute %s carries a credential or an openid: %s", s.Name, kv.Key, v)
				}
			}
		}
	}
	for _, want := range []string{"GET " + host, "POST " + host} {
		if !clientSpans[want] {
			t.Errorf("no client span %q for the platform calls %v; client spans: %v", want, calls, clientSpans)
		}
	}
}

func mustParseURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
