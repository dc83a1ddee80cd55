package main

import (
	"bytes"
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

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
