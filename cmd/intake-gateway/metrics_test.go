package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
)

// sample is one line of the Prometheus text exposition format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// scrape reads url in the text exposition format. The format is simple enough that a reader of
// its sample lines needs no library, and reading it here checks what Prometheus itself would get.
func scrape(t *testing.T, url string) []sample {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("scrape %s: %d %s", url, res.StatusCode, res.Header.Get("Content-Type"))
	}
	var out []sample
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s, err := parseSample(line)
		if err != nil {
			t.Fatalf("scrape line %q: %v", line, err)
		}
		out = append(out, s)
	}
	return out
}

func parseSample(line string) (sample, error) {
	s := sample{labels: map[string]string{}}
	rest := line
	if i := strings.IndexAny(line, "{ "); i >= 0 && line[i] == '{' {
		s.name = line[:i]
		end := strings.LastIndex(line, "}")
		if end < i {
			return s, fmt.Errorf("unclosed labels")
		}
		for _, pair := range splitLabels(line[i+1 : end]) {
			k, v, ok := strings.Cut(pair, "=")
			if !ok {
				return s, fmt.Errorf("label %q", pair)
			}
			uq, err := strconv.Unquote(v)
			if err != nil {
				return s, fmt.Errorf("label value %s: %w", v, err)
			}
			s.labels[k] = uq
		}
		rest = strings.TrimSpace(line[end+1:])
	} else {
		s.name, rest, _ = strings.Cut(line, " ")
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return s, fmt.Errorf("no value")
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	s.value = v
	return s, err
}

// splitLabels splits `a="x",b="y,z"` at the commas outside quotes.
func splitLabels(s string) []string {
	var out []string
	var cur strings.Builder
	quoted, escaped := false, false
	for _, r := range s {
		switch {
		case escaped:
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
			continue
		}
		cur.WriteRune(r)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// find returns the samples named name whose labels include want.
func find(samples []sample, name string, want map[string]string) []sample {
	var out []sample
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for k, v := range want {
			if s.labels[k] != v {
				continue next
			}
		}
		out = append(out, s)
	}
	return out
}

func one(t *testing.T, samples []sample, name string, want map[string]string) float64 {
	t.Helper()
	got := find(samples, name, want)
	if len(got) != 1 {
		t.Fatalf("%s%v: %d samples, want 1", name, want, len(got))
	}
	return got[0].value
}

// metricsGateway assembles the gateway on SQLite with a WeChat channel and one case system
// (answering 503, so a delivery stays queued) and returns the assembly, its public server and a
// server over the admin listener's handler.
func metricsGateway(t *testing.T) (*assembly, *httptest.Server, *httptest.Server) {
	t.Helper()
	caseSystem := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	t.Cleanup(caseSystem.Close)
	dir := t.TempDir()
	yaml := fmt.Sprintf(`database: { sqlite_path: %q }
log: { level: error }
api_keys: [{ name: crm, sha256: "%s", scopes: [submit, read] }]
case_systems:
  - { name: crm, url: %q, secret: s3cret }
forwarding: { retry_min: 1h, retry_max: 2h }
channels:
  - id: wechat-main
    type: wechat
    app_id: %s
    app_secret: secret
    token: %s
    encoding_aes_key: %s
    mode: safe
    account_id: %s
`, filepath.Join(dir, "m.db"), sha(e2eKey), caseSystem.URL+"/cases", e2eAccount.AppID, e2eAccount.Token, e2eAccount.EncodingAESKey, e2eAccount.GhID)
	a := assembleYAML(t, dir, yaml)
	pub := httptest.NewServer(a.handler)
	admin := httptest.NewServer(adminHandler(a.registry))
	t.Cleanup(func() { admin.Close(); pub.Close(); a.Close() })
	return a, pub, admin
}

// TestAdminListenerExportsTheOperationalMetrics drives a case, a retry and a forged WeChat push
// through the gateway and scrapes the admin handler: every figure an operator's dashboard and
// alerts use is there with the values the traffic implies, and the public listener serves none.
func TestAdminListenerExportsTheOperationalMetrics(t *testing.T) {
	_, pub, admin := metricsGateway(t)

	body := `{"channel":"phone","citizen":{"name":"李女士","phone":"13800138000"},"text":"文化路路灯坏了一周，晚上很黑。"}`
	submit := func() string {
		req, _ := http.NewRequest(http.MethodPost, pub.URL+"/v1/submissions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+e2eKey)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "metrics-1")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		if res.StatusCode/100 != 2 {
			t.Fatalf("submit: %d %s", res.StatusCode, raw)
		}
		return string(raw)
	}
	record := submit()
	submit() // the retry: counted as replayed, not created
	category := between(record, `"category":"`, `"`)
	if category == "" {
		t.Fatalf("no category in %s", record)
	}

	// A push with a forged signature is refused before it reaches the core.
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := e2eAccount.Build(pub.URL+"/hooks/wechat/wechat-main", wxtest.Request{Timestamp: ts, Nonce: "7", Body: "<xml></xml>", Safe: true})
	if err != nil {
		t.Fatal(err)
	}
	q := req.URL.Query()
	q.Set("signature", strings.Repeat("0", 40))
	req.URL.RawQuery = q.Encode()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("forged push: %d", res.StatusCode)
	}

	// The delivery is attempted once (503: retry in an hour) and stays queued.
	var samples []sample
	deadline := time.Now().Add(10 * time.Second)
	for {
		samples = scrape(t, admin.URL+"/metrics")
		if v := find(samples, "intake_forward_attempts_total", map[string]string{"target": "crm", "outcome": "retry"}); len(v) == 1 && v[0].value >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no retried delivery attempt within 10s")
		}
		time.Sleep(100 * time.Millisecond)
	}

	checks := []struct {
		name   string
		labels map[string]string
		ok     func(float64) bool
		want   string
	}{
		{"intake_cases_created_total", map[string]string{"channel": "phone", "category": category}, eq(1), "1"},
		{"intake_submissions_replayed_total", map[string]string{"channel": "phone"}, eq(1), "1"},
		{"intake_classify_seconds_count", nil, eq(2), "2 (each submission is built before the store finds the retry)"},
		{"intake_store_batch_size_count", nil, atLeast(1), ">= 1"},
		{"intake_store_commit_seconds_count", map[string]string{"outcome": "ok"}, atLeast(1), ">= 1"},
		{"intake_webhook_refused_total", map[string]string{"platform": "wechat", "channel_id": "wechat-main", "reason": "bad_signature"}, eq(1), "1"},
		{"intake_wechat_rejected_total", map[string]string{"channel_id": "wechat-main", "reason": "bad_signature"}, eq(1), "1"},
		{"intake_forward_queued", map[string]string{"target": "crm"}, eq(1), "1"},
		{"intake_forward_oldest_queued_age_seconds", map[string]string{"target": "crm"}, func(v float64) bool { return v >= 0 && v < 60 }, "0..60"},
		{"intake_forward_dead", map[string]string{"target": "crm"}, eq(0), "0"},
		{"intake_forward_backlog_up", nil, eq(1), "1"},
		{"intake_forward_breaker_open", map[string]string{"target": "crm"}, eq(0), "0"},
		{"intake_forward_attempts_total", map[string]string{"target": "crm", "outcome": "delivered"}, eq(0), "0"},
		{"intake_notify_outcomes_total", map[string]string{"channel": "wechat", "outcome": "failed"}, eq(0), "0"},
		{"intake_build_info", map[string]string{"version": "dev"}, eq(1), "1"},
	}
	for _, c := range checks {
		if v := one(t, samples, c.name, c.labels); !c.ok(v) {
			t.Errorf("%s%v = %v, want %s", c.name, c.labels, v, c.want)
		}
	}
	if len(find(samples, "intake_build_info", map[string]string{})) == 1 && find(samples, "intake_build_info", nil)[0].labels["go_version"] == "" {
		t.Error("intake_build_info has no go_version")
	}

	exportedNamesCoverDeployFiles(t, samples)

	// Nothing of the admin surface is served publicly.
	for _, path := range []string{"/metrics", "/debug/pprof/"} {
		res, err := http.Get(pub.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusNotFound || strings.Contains(string(raw), "intake_cases_created_total") {
			t.Errorf("public %s: %d", path, res.StatusCode)
		}
	}
}

func eq(want float64) func(float64) bool   { return func(v float64) bool { return v == want } }
func atLeast(n float64) func(float64) bool { return func(v float64) bool { return v >= n } }

// between returns the text of s between the first from and the next to.
func between(s, from, to string) string {
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, to)
	return v
}

// metricName finds the names in a PromQL expression that belong to the gateway's process (its own
// intake_*, Go's go_* and process_*); "up" and the like are Prometheus's own.
var metricName = regexp.MustCompile(`\b(?:intake|go|process)_[a-zA-Z0-9_:]*`)

// exportedNamesCoverDeployFiles checks that every metric the Grafana dashboard and the alerting
// rules in deploy/ query is one the gateway exports, so a renamed metric cannot leave a panel
// empty or an alert silent.
func exportedNamesCoverDeployFiles(t *testing.T, samples []sample) {
	t.Helper()
	exported := map[string]bool{}
	for _, s := range samples {
		exported[s.name] = true
	}
	var exprs []string

	raw, err := os.ReadFile("../../deploy/grafana/intake-gateway.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	if len(dash.Panels) < 10 {
		t.Fatalf("dashboard has %d panels", len(dash.Panels))
	}
	for _, p := range dash.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}

	raw, err = os.ReadFile("../../deploy/prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(raw, &rules); err != nil {
		t.Fatalf("alerts: %v", err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}

	used := map[string]bool{}
	for _, e := range exprs {
		names := metricName.FindAllString(e, -1)
		if len(names) == 0 && !strings.Contains(e, "up{") {
			t.Errorf("expression names no metric of the gateway: %s", e)
		}
		for _, n := range names {
			used[n] = true
		}
	}
	var missing []string
	for n := range used {
		if !exported[n] {
			missing = append(missing, n)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("deploy/ queries metrics the gateway does not export: %v", missing)
	}
}
