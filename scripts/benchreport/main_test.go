package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// The testdata files are real outputs of this machine's wrk, vegeta and pgbench, kept as the
// tools printed them during a short run, so the parsers are tested on what they will read.

func TestParseWrk(t *testing.T) {
	out, err := os.ReadFile("testdata/wrk.txt")
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseWrk(string(out))
	if err != nil {
		t.Fatal(err)
	}
	if m.Requests != 1186 || m.OK != 1186 || m.non2xx() != 0 {
		t.Errorf("requests %d, 2xx %d; want 1186 and 1186", m.Requests, m.OK)
	}
	if want := 1186 / 3.06; m.Rate < want-0.01 || m.Rate > want+0.01 {
		t.Errorf("rate %.2f, want %.2f (2xx over wrk's own duration)", m.Rate, want)
	}
	if m.P50 != 74900*time.Microsecond || m.P99 != 135810*time.Microsecond {
		t.Errorf("p50 %v p99 %v, want 74.9ms and 135.81ms", m.P50, m.P99)
	}
}

// A wrk run with refused answers and failed sockets: status errors are answers that count as
// requests but not as 2xx; timeouts and read errors are requests that got no answer at all.
func TestParseWrkCountsFailures(t *testing.T) {
	out, err := os.ReadFile("testdata/wrk.txt")
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(out), "status=0 timeout=0", "status=7 timeout=3", 1)
	m, err := parseWrk(bad)
	if err != nil {
		t.Fatal(err)
	}
	if m.OK != 1179 || m.Requests != 1189 || m.non2xx() != 10 {
		t.Errorf("2xx %d of %d (%d non-2xx); want 1179 of 1189 (10)", m.OK, m.Requests, m.non2xx())
	}
	if m.Codes["non-2xx"] != 7 || m.Codes["0"] != 3 || len(m.Errors) != 1 {
		t.Errorf("codes %v errors %v", m.Codes, m.Errors)
	}
	if _, err := parseWrk("Running 3s test @ http://127.0.0.1:1/\nunable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("wrk output without its summary parsed")
	}
}

func TestParseVegeta(t *testing.T) {
	b, err := os.ReadFile("testdata/vegeta.json")
	if err != nil {
		t.Fatal(err)
	}
	m, err := parseVegeta(b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Requests != 600 || m.OK != 600 || m.has4xx() {
		t.Errorf("requests %d 2xx %d has4xx %v", m.Requests, m.OK, m.has4xx())
	}
	if m.P50 != 41404598 || m.P99 != 248362399 {
		t.Errorf("p50 %v p99 %v", m.P50, m.P99)
	}
	// 2xx over the attack and the wait for its last answers: 600 / (2.9956 s + 0.0315 s).
	if want := 600 / (2.995602787 + 0.031503648); m.Rate < want-0.001 || m.Rate > want+0.001 {
		t.Errorf("rate %.3f, want %.3f", m.Rate, want)
	}
}

// withCodes is the real vegeta report with other status codes, as an attack on a gateway
// with the wrong WeChat token reported them.
func withCodes(t *testing.T, codes map[string]int) *measurement {
	t.Helper()
	b, err := os.ReadFile("testdata/vegeta.json")
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	v["status_codes"] = codes
	b, _ = json.Marshal(v)
	m, err := parseVegeta(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The run fails on breakage and never on speed: any non-2xx at the constant rate, a 4xx at the
// maximum rate, or nothing succeeding; 5xx and timeouts at the maximum rate are only reported.
func TestBreakageRules(t *testing.T) {
	cases := []struct {
		name            string
		codes           map[string]int
		constant, atMax bool // whether a problem is recorded
	}{
		{"all 2xx", map[string]int{"200": 600}, false, false},
		{"refused signatures", map[string]int{"403": 4, "429": 596}, true, true},
		{"one overload 503", map[string]int{"200": 599, "503": 1}, true, false},
		{"one timeout", map[string]int{"201": 599, "0": 1}, true, false},
		{"a 4xx among successes", map[string]int{"201": 599, "400": 1}, true, true},
		{"nothing answered", map[string]int{"0": 600}, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := withCodes(t, c.codes)
			r := &runner{log: testWriter{t}}
			r.checkConstant("x", m)
			if got := len(r.problems) > 0; got != c.constant {
				t.Errorf("constant rate: problem %v, want %v (%v)", got, c.constant, r.problems)
			}
			r = &runner{log: testWriter{t}}
			r.checkMax("x", m)
			if got := len(r.problems) > 0; got != c.atMax {
				t.Errorf("maximum rate: problem %v, want %v (%v)", got, c.atMax, r.problems)
			}
		})
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func TestParsePgbench(t *testing.T) {
	out, err := os.ReadFile("testdata/pgbench.txt")
	if err != nil {
		t.Fatal(err)
	}
	if tps, failed := parsePgbench(string(out)); tps != 1885.156098 || failed != 0 {
		t.Errorf("tps %v failed %d, want 1885.156098 and 0", tps, failed)
	}
	failing := strings.Replace(string(out), "number of failed transactions: 0 (0.000%)", "number of failed transactions: 12 (0.341%)", 1)
	if _, failed := parsePgbench(failing); failed != 12 {
		t.Errorf("failed %d, want 12", failed)
	}
}

// pgbench's per-transaction logs, one per thread: the third column is the latency in µs
// (from the scheduled start under -R); a failed transaction has "failed" there.
func TestPgbenchLatencies(t *testing.T) {
	lat, err := pgbenchLatencies("testdata/pgbench-log")
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Duration{269771, 290912, 306910, 307657, 310975, 314831}
	if len(lat) != len(want) {
		t.Fatalf("%d latencies, want %d (both threads' files, the failed one left out): %v", len(lat), len(want), lat)
	}
	for i := range want {
		if lat[i] != want[i]*time.Microsecond {
			t.Errorf("latency %d = %v, want %v", i, lat[i], want[i]*time.Microsecond)
		}
	}
	if _, err := pgbenchLatencies(t.TempDir()); err == nil {
		t.Error("a directory without pgbench logs read without error")
	}
}

func TestPercentile(t *testing.T) {
	var v []time.Duration
	for i := 1; i <= 200; i++ {
		v = append(v, time.Duration(i))
	}
	for q, want := range map[float64]time.Duration{0.5: 100, 0.99: 198, 1: 200, 0: 1} {
		if got := percentile(v, q); got != want {
			t.Errorf("percentile(1..200, %v) = %v, want %v", q, got, want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing")
	}
}

func TestReportRatios(t *testing.T) {
	mk := func(rate float64, p50, p99 time.Duration) *measurement {
		return &measurement{Tool: "vegeta", Requests: 100, OK: 100, Rate: rate, P50: p50, P99: p99, Codes: map[string]int{"200": 100}}
	}
	rows := []*row{
		{Store: "PostgreSQL", Workload: "bare", Kind: "bare", Constant: mk(200, 2*time.Millisecond, 10*time.Millisecond),
			Max: mk(4000, 0, 0), Wrk: mk(4400, 0, 0), RSSKiB: 20 * 1024, Stored: -1},
		{Store: "PostgreSQL", Workload: "pgbench", Kind: "pgbench", Constant: mk(200, time.Millisecond, 5*time.Millisecond),
			Max: mk(16000, 0, 0), Stored: -1},
		{Store: "SQLite", Workload: "REST", Kind: "gateway", Warm: mk(200, 0, 0), Constant: mk(200, 3*time.Millisecond, 30*time.Millisecond),
			Max: mk(2000, 0, 0), Wrk: mk(2200, 0, 0), RSSKiB: 150 * 1024, Stored: 400},
	}
	r := &runner{o: options{rate: 200, conns: 32, duration: 20 * time.Second, warmup: 3 * time.Second}}
	out := r.report(rows, time.Now(), "1 1 1", "1 1 1", time.Minute)
	for _, want := range []string{
		"| SQLite | REST | 0.50 | 0.12 | 1.50 | 3.00 | 6.00 | 7.50 |", // max ÷ bare, ÷ pgbench; p50, p99 ÷ bare; p99 ÷ pgbench; RSS
		"| SQLite | REST, wrk | 0.50 | 0.14 |",                        // wrk against the bare handler's wrk
		"| 150 MiB | 400 / 400 |",                                     // warm-up, constant, max and wrk 2xx
		"No breakage",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	r.problems = []string{"sqlite-rest at 200/s: 1 of 100 requests not answered 2xx"}
	if out := r.report(rows, time.Now(), "", "", 0); !strings.Contains(out, "**FAILED**") || strings.Contains(out, "No breakage") {
		t.Errorf("a run with problems does not say FAILED:\n%s", out)
	}
}
