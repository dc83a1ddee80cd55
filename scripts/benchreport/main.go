// Command benchreport is `make bench` and `make bench-short`: one load run that measures the
// gateway's three busiest entrances on both stores beside two yardsticks on the same
// PostgreSQL, and prints one Markdown report whose ratios are the figures to read.
//
//	go run ./scripts/benchreport                      full run (20 s per measurement)
//	go run ./scripts/benchreport -short               a few seconds per measurement (CI; BENCH_SHORT=1 too)
//	-gateway bin/intake-gateway                       measure that build instead of building one
//	-stores postgres,sqlite -rate 200 -conns 32 -duration 20s -warmup 3s -max-cap 8000 -out bench-results
//
// For each store, and for each of REST (POST /v1/submissions), WeChat safe mode (encrypted and
// signed pushes) and Twilio SMS (signed), a gateway is started on a new empty database and
// measured at a constant rate (vegeta, open loop: p50/p99, status codes) and at its maximum rate
// (vegeta with -conns workers, closed loop; REST also with wrk). Beside them in the same run:
// scripts/barehandler (echo, a validated JSON body, one pgx INSERT per request) with the same
// REST requests and tools, and pgbench's single-row INSERT at the same rate and concurrency.
// Each process's peak RSS is its VmHWM.
//
// The generator, the servers and PostgreSQL share the machine, whose other work moves absolute
// rates from run to run: the ratios between rows of the same run are what it measures.
//
// The run fails (exit 1, after the report) only on breakage: a tool or server that fails, a
// request refused with 4xx anywhere, or any request that is not answered 2xx at the constant
// rate. Slowness never fails it; a maximum-rate 5xx or timeout is reported, not failed.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

type options struct {
	short      bool
	duration   time.Duration
	warmup     time.Duration
	rate       int
	conns      int
	maxCap     int
	stores     []string
	gatewayBin string
	outDir     string
	adminURL   string
}

func main() {
	var o options
	var stores string
	flag.BoolVar(&o.short, "short", os.Getenv("BENCH_SHORT") == "1", "a few seconds per measurement, for CI (BENCH_SHORT=1)")
	flag.DurationVar(&o.duration, "duration", 0, "length of each measurement (default 20s, 3s with -short)")
	flag.DurationVar(&o.warmup, "warmup", 0, "constant-rate warm-up of each fresh server, not reported (default 3s, 1s with -short)")
	flag.IntVar(&o.rate, "rate", 0, "constant rate, requests per second (default 200, 100 with -short)")
	flag.IntVar(&o.conns, "conns", 32, "concurrent senders at the maximum rate (vegeta workers, wrk connections, pgbench clients, bare pool)")
	flag.IntVar(&o.maxCap, "max-cap", 8000, "targets prepared per second of a maximum-rate measurement (each request must be new)")
	flag.StringVar(&stores, "stores", "postgres,sqlite", "stores to measure the gateway on")
	flag.StringVar(&o.gatewayBin, "gateway", "", "gateway binary to measure (default: build ./cmd/intake-gateway)")
	flag.StringVar(&o.outDir, "out", "bench-results", "directory for bench-report.md and the raw tool outputs")
	flag.StringVar(&o.adminURL, "db", envOr("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"),
		"PostgreSQL URL with the right to create databases (BENCH_DATABASE_URL)")
	flag.Parse()
	if o.duration == 0 {
		o.duration = pick(o.short, 3*time.Second, 20*time.Second)
	}
	if o.warmup == 0 {
		o.warmup = pick(o.short, time.Second, 3*time.Second)
	}
	if o.rate == 0 {
		// The short run looks for breakage on machines busier than this one: a rate they can
		// keep, so that a slow answer is never taken for a failed one.
		o.rate = pick(o.short, 100, 200)
	}
	for _, s := range strings.Split(stores, ",") {
		if s = strings.TrimSpace(s); s != "postgres" && s != "sqlite" {
			fatalf("-stores: unknown store %q (postgres, sqlite)", s)
		}
		o.stores = append(o.stores, strings.TrimSpace(s))
	}
	if o.rate <= 0 || o.conns <= 0 || o.maxCap <= 0 || o.duration < time.Second {
		fatalf("-rate, -conns and -max-cap must be positive and -duration at least 1s")
	}

	// Interrupted runs still stop their servers and drop their databases (deferred below).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := newRunner(ctx, o)
	if err != nil {
		fatalf("%v", err)
	}
	failed, err := r.run()
	r.close()
	if err != nil {
		fatalf("%v", err)
	}
	if failed {
		os.Exit(1)
	}
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func pick[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "benchreport: "+format+"\n", args...)
	os.Exit(2)
}

// measurement is one load tool's run against one server.
type measurement struct {
	Tool     string
	Requests int
	OK       int            // 2xx answers
	Rate     float64        // 2xx answers per second
	P50, P99 time.Duration  // over all requests
	Codes    map[string]int // status code → count; "0" is a transport error or timeout
	Errors   []string       // the tool's distinct error messages
	Note     string         // something the reader must know about this measurement
}

func (m *measurement) non2xx() int { return m.Requests - m.OK }

// has4xx tells whether any request was refused as bad: the benchmark sent something the gateway
// does not accept (a signature, a key, a body), never a matter of load.
func (m *measurement) has4xx() bool {
	for c, n := range m.Codes {
		if strings.HasPrefix(c, "4") && n > 0 {
			return true
		}
	}
	return false
}

// row is one line of the report.
type row struct {
	Store, Workload string
	Kind            string       // "gateway", "bare", "pgbench"
	Warm            *measurement // the warm-up, counted only in the 2xx total
	Constant        *measurement
	Max             *measurement
	Wrk             *measurement // REST and the bare handler: wrk at the maximum rate too
	RSSKiB          int64        // peak resident set of the server process (VmHWM)
	Stored          int64        // cases the gateway counted as created (-1: unknown)
}

type runner struct {
	ctx      context.Context
	o        options
	work     string // temporary binaries, targets, configs, SQLite files
	raw      string // raw tool outputs kept with the report
	bin      map[string]string
	log      io.Writer
	problems []string
	dbs      []string // databases created and not yet dropped
	seq      int
	pgServer string
}

func newRunner(ctx context.Context, o options) (*runner, error) {
	if _, err := os.Stat("go.mod"); err != nil {
		return nil, errors.New("run from the repository root (make bench does)")
	}
	work, err := os.MkdirTemp("", "benchreport-")
	if err != nil {
		return nil, fmt.Errorf("work directory: %w", err)
	}
	raw := filepath.Join(o.outDir, "raw")
	if err := os.RemoveAll(raw); err != nil {
		return nil, fmt.Errorf("clear %s: %w", raw, err)
	}
	if err := os.MkdirAll(raw, 0o755); err != nil {
		return nil, fmt.Errorf("results directory: %w", err)
	}
	return &runner{ctx: ctx, o: o, work: work, raw: raw, bin: map[string]string{}, log: os.Stderr}, nil
}

func (r *runner) close() {
	// A fresh context: the run's own may have been cancelled by an interrupt.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, db := range slices.Clone(r.dbs) {
		r.dropDB(ctx, db)
	}
	os.RemoveAll(r.work)
}

func (r *runner) logf(format string, args ...any) {
	fmt.Fprintf(r.log, "%s "+format+"\n", append([]any{time.Now().UTC().Format("15:04:05")}, args...)...)
}

func (r *runner) logMeasurement(name string, m *measurement) {
	r.logf("  %s (%s): %d requests, %d 2xx, %.0f/s, p50 %s, p99 %s", name, m.Tool, m.Requests, m.OK, m.Rate, ms(m.P50), ms(m.P99))
}

// problem records breakage: the report is still printed, and the run then fails.
func (r *runner) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.problems = append(r.problems, msg)
	r.logf("PROBLEM: %s", msg)
}

func (r *runner) run() (failed bool, err error) {
	start := time.Now().UTC()
	load0 := loadAverage()
	if err := r.tools(); err != nil {
		return false, err
	}
	if err := r.build(); err != nil {
		return false, err
	}
	if err := r.serverVersion(); err != nil {
		return false, err
	}

	var rows []*row
	// The yardsticks first, then each store's gateways: every row has its own new database and
	// its own freshly started process.
	bare, err := r.bareRow()
	if err != nil {
		return false, err
	}
	rows = append(rows, bare)
	pgb, err := r.pgbenchRow()
	if err != nil {
		return false, err
	}
	rows = append(rows, pgb)
	for _, store := range r.o.stores {
		// The full run gives each entrance its own gateway and store; the short one, which
		// looks for breakage only, lets one gateway per store serve all three and saves the
		// starts.
		var g *gateway
		for _, ch := range []string{"rest", "wechat", "twilio"} {
			if g == nil {
				if g, err = r.startGateway(store, store+"-"+ch); err != nil {
					return false, err
				}
			}
			x, err := r.channelRow(g, ch)
			if err != nil {
				g.stop()
				return false, err
			}
			rows = append(rows, x)
			if !r.o.short {
				g.stop()
				g = nil
			}
		}
		if g != nil {
			g.stop()
		}
	}

	report := r.report(rows, start, load0, loadAverage(), time.Since(start))
	path := filepath.Join(r.o.outDir, "bench-report.md")
	if err := os.WriteFile(path, []byte(report), 0o644); err != nil {
		return false, fmt.Errorf("write report: %w", err)
	}
	fmt.Print(report)
	r.logf("report written to %s (raw tool outputs in %s)", path, r.raw)
	return len(r.problems) > 0, nil
}

// tools finds wrk, vegeta and pgbench, installing what is missing the way the older scripts do.
func (r *runner) tools() error {
	gopathBin := ""
	if out, err := exec.CommandContext(r.ctx, "go", "env", "GOPATH").Output(); err == nil {
		gopathBin = filepath.Join(strings.TrimSpace(string(out)), "bin")
	}
	find := func(name string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if p := filepath.Join(gopathBin, name); gopathBin != "" && isExecutable(p) {
			return p
		}
		return ""
	}
	for _, t := range []struct{ name, install string }{
		{"wrk", "apt-get update -qq && apt-get install -y -qq wrk"},
		{"pgbench", "apt-get update -qq && apt-get install -y -qq postgresql-client"},
		{"vegeta", "GOFLAGS= go install github.com/tsenart/vegeta/v12@v12.13.0"},
	} {
		if p := find(t.name); p != "" {
			r.bin[t.name] = p
			continue
		}
		r.logf("installing %s: %s", t.name, t.install)
		cmd := exec.CommandContext(r.ctx, "bash", "-c", t.install)
		cmd.Stdout, cmd.Stderr = r.log, r.log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("install %s: %w", t.name, err)
		}
		if r.bin[t.name] = find(t.name); r.bin[t.name] == "" {
			return fmt.Errorf("%s still not found after installing it", t.name)
		}
	}
	return nil
}

func isExecutable(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0
}

func (r *runner) build() error {
	targets := map[string]string{"loadgen": "./scripts/loadgen", "barehandler": "./scripts/barehandler"}
	if r.o.gatewayBin == "" {
		targets["intake-gateway"] = "./cmd/intake-gateway"
	} else {
		abs, err := filepath.Abs(r.o.gatewayBin)
		if err != nil || !isExecutable(abs) {
			return fmt.Errorf("-gateway %s: not an executable file", r.o.gatewayBin)
		}
		r.bin["intake-gateway"] = abs
	}
	for _, name := range []string{"intake-gateway", "barehandler", "loadgen"} {
		pkg, ok := targets[name]
		if !ok {
			continue
		}
		r.logf("building %s", pkg)
		out := filepath.Join(r.work, name)
		cmd := exec.CommandContext(r.ctx, "go", "build", "-o", out, pkg)
		cmd.Stdout, cmd.Stderr = r.log, r.log
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s: %w", pkg, err)
		}
		r.bin[name] = out
	}
	return nil
}

func (r *runner) serverVersion() error {
	conn, err := pgx.Connect(r.ctx, r.o.adminURL)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL (-db): %w", err)
	}
	defer conn.Close(r.ctx)
	var v string
	if err := conn.QueryRow(r.ctx, "SHOW server_version").Scan(&v); err != nil {
		return fmt.Errorf("PostgreSQL version: %w", err)
	}
	r.pgServer = v
	return nil
}

// freshDB creates a new empty database and checkpoints, so that no row starts with another
// row's dirty pages or WAL to write; it returns the database's URL.
func (r *runner) freshDB() (string, error) {
	r.seq++
	name := fmt.Sprintf("intake_benchreport_%d_%d", os.Getpid(), r.seq)
	conn, err := pgx.Connect(r.ctx, r.o.adminURL)
	if err != nil {
		return "", fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	defer conn.Close(r.ctx)
	if _, err := conn.Exec(r.ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	r.dbs = append(r.dbs, name)
	r.checkpoint(conn)
	u, err := url.Parse(r.o.adminURL)
	if err != nil {
		return "", fmt.Errorf("parse -db: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// checkpoint writes out the previous rows' dirty pages now, so that no row pays for another's.
func (r *runner) checkpoint(conn *pgx.Conn) {
	if _, err := conn.Exec(r.ctx, "CHECKPOINT"); err != nil {
		// Only a superuser may checkpoint; the run is still valid, only noisier.
		r.logf("CHECKPOINT refused (%v); rows may catch a checkpoint", err)
	}
}

func (r *runner) dropDB(ctx context.Context, name string) {
	r.dbs = slices.DeleteFunc(r.dbs, func(s string) bool { return s == name })
	conn, err := pgx.Connect(ctx, r.o.adminURL)
	if err != nil {
		r.logf("drop database %s: %v", name, err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		r.logf("drop database %s: %v", name, err)
	}
}

func dbName(dbURL string) string {
	u, _ := url.Parse(dbURL)
	return strings.TrimPrefix(u.Path, "/")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// server is a process under measurement.
type server struct {
	cmd  *exec.Cmd
	done chan error
	log  string
}

func (r *runner) start(name, logFile string, args ...string) (*server, error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, fmt.Errorf("%s log: %w", name, err)
	}
	cmd := exec.CommandContext(r.ctx, r.bin[name], args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s := &server{cmd: cmd, done: make(chan error, 1), log: logFile}
	go func() { s.done <- cmd.Wait(); f.Close() }()
	return s, nil
}

// waitReady polls u until it answers wantStatus (0: any answer), the process exits or a minute
// passes (a busy machine starts the gateway slowly: it loads its classifier and migrates).
func (s *server) waitReady(ctx context.Context, u string, wantStatus int) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return fmt.Errorf("exited before it was ready (%v); its log: %s", err, tail(s.log))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(u)
		if err != nil {
			continue
		}
		resp.Body.Close()
		if wantStatus == 0 || resp.StatusCode == wantStatus {
			return nil
		}
	}
	return fmt.Errorf("not ready within a minute; its log: %s", tail(s.log))
}

// alive reports whether the process still runs (a server that died under load is breakage).
func (s *server) alive() bool {
	select {
	case err := <-s.done:
		s.done <- err
		return false
	default:
		return true
	}
}

// peakRSS is the process's high-water resident set (VmHWM, KiB) read before it is stopped.
func (s *server) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// stop asks the process to shut down as an operator would, and kills it if it does not.
func (s *server) stop() {
	if !s.alive() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.done <- err
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		s.done <- <-s.done
	}
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return strings.TrimSpace(string(b))
}

// targets writes a vegeta target file of count requests from scripts/loadgen (mode vegeta,
// wechat or twilio), each one new: prepared before the measurement so that signing and
// encrypting cost the generator nothing while it runs.
func (r *runner) targets(mode, u, key, prefix string, count int) (string, error) {
	path := filepath.Join(r.work, prefix+".json")
	f, err := os.Create(path)
	if err != nil {
		return "", fmt.Errorf("targets file: %w", err)
	}
	defer f.Close()
	args := []string{"-mode", mode, "-url", u, "-prefix", prefix, "-count", strconv.Itoa(count)}
	if key != "" {
		args = append(args, "-key", key)
	}
	cmd := exec.CommandContext(r.ctx, r.bin["loadgen"], args...)
	cmd.Stdout = bufio.NewWriterSize(f, 1<<20)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("loadgen -mode %s: %w: %s", mode, err, stderr.String())
	}
	if err := cmd.Stdout.(*bufio.Writer).Flush(); err != nil {
		return "", fmt.Errorf("targets file: %w", err)
	}
	return path, nil
}

// vegeta runs one attack: at rate requests/s (open loop), or with rate 0 as fast as workers
// senders go (closed loop). Its JSON report is kept in the raw directory.
func (r *runner) vegeta(name, targets string, rate, workers int, d time.Duration, available int) (*measurement, error) {
	args := []string{"attack", "-format=json", "-targets=" + targets, "-duration=" + d.String(),
		"-rate=" + strconv.Itoa(rate), "-timeout=30s"}
	if workers > 0 {
		args = append(args, "-max-workers="+strconv.Itoa(workers), "-workers="+strconv.Itoa(workers))
	}
	attack := exec.CommandContext(r.ctx, r.bin["vegeta"], args...)
	report := exec.CommandContext(r.ctx, r.bin["vegeta"], "report", "-type=json")
	pipe, err := attack.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("vegeta pipe: %w", err)
	}
	report.Stdin = pipe
	var out, attackErr, reportErr bytes.Buffer
	report.Stdout, report.Stderr, attack.Stderr = &out, &reportErr, &attackErr
	if err := report.Start(); err != nil {
		return nil, fmt.Errorf("vegeta report: %w", err)
	}
	if err := attack.Run(); err != nil {
		_ = report.Wait()
		return nil, fmt.Errorf("vegeta attack (%s): %w: %s", name, err, attackErr.String())
	}
	if err := report.Wait(); err != nil {
		return nil, fmt.Errorf("vegeta report (%s): %w: %s", name, err, reportErr.String())
	}
	if err := os.WriteFile(filepath.Join(r.raw, name+".vegeta.json"), out.Bytes(), 0o644); err != nil {
		return nil, fmt.Errorf("keep vegeta report: %w", err)
	}
	m, err := parseVegeta(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("vegeta report (%s): %w", name, err)
	}
	r.logMeasurement(name, m)
	if m.Requests > available {
		// Vegeta goes round the targets again: the rest were replays, answered from the
		// earlier cases, which is not what the row claims to measure.
		m.Note = fmt.Sprintf("only %d new requests prepared, %d sent: raise -max-cap", available, m.Requests)
		r.logf("%s: %s", name, m.Note)
	}
	return m, nil
}

func parseVegeta(b []byte) (*measurement, error) {
	var v struct {
		Latencies struct {
			P50 int64 `json:"50th"`
			P99 int64 `json:"99th"`
		} `json:"latencies"`
		Requests    int            `json:"requests"`
		Throughput  float64        `json:"throughput"`
		Duration    int64          `json:"duration"`
		Wait        int64          `json:"wait"`
		StatusCodes map[string]int `json:"status_codes"`
		Errors      []string       `json:"errors"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, err
	}
	m := &measurement{Tool: "vegeta", Requests: v.Requests, P50: time.Duration(v.Latencies.P50),
		P99: time.Duration(v.Latencies.P99), Codes: v.StatusCodes, Errors: v.Errors}
	for c, n := range v.StatusCodes {
		if strings.HasPrefix(c, "2") {
			m.OK += n
		}
	}
	// Vegeta's throughput counts 2xx and 3xx; the 2xx rate over the attack and its wait is
	// what is compared.
	if span := time.Duration(v.Duration + v.Wait); span > 0 {
		m.Rate = float64(m.OK) / span.Seconds()
	}
	return m, nil
}

// wrk runs wrk with scripts/loadgen's Lua script (new Idempotency-Key and citizen per request).
func (r *runner) wrk(name, u, key string, d time.Duration) (*measurement, error) {
	lua := filepath.Join(r.work, name+".lua")
	f, err := os.Create(lua)
	if err != nil {
		return nil, fmt.Errorf("wrk script: %w", err)
	}
	gen := exec.CommandContext(r.ctx, r.bin["loadgen"], "-mode", "wrk", "-key", key, "-prefix", name+"-"+strconv.Itoa(os.Getpid()))
	gen.Stdout = f
	err = gen.Run()
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("loadgen -mode wrk: %w", err)
	}
	cmd := exec.CommandContext(r.ctx, r.bin["wrk"], "-t2", "-c"+strconv.Itoa(r.o.conns),
		"-d"+strconv.Itoa(int(d.Seconds()))+"s", "--timeout", "30s", "-s", lua, u)
	out, err := cmd.CombinedOutput()
	if werr := os.WriteFile(filepath.Join(r.raw, name+".wrk.txt"), out, 0o644); werr != nil {
		return nil, fmt.Errorf("keep wrk output: %w", werr)
	}
	if err != nil {
		return nil, fmt.Errorf("wrk (%s): %w: %s", name, err, out)
	}
	m, err := parseWrk(string(out))
	if err != nil {
		return nil, fmt.Errorf("wrk (%s): %w", name, err)
	}
	r.logMeasurement(name, m)
	return m, nil
}

// parseWrk reads wrk's summary and the line scripts/loadgen's done() prints:
//
//	wrk: requests=N errors(connect=a read=b write=c status=d timeout=e) p50=Xms p99=Yms
//
// wrk counts a 3xx as a success; the gateway and the bare handler answer 201, so every status
// error is a non-2xx answer.
func parseWrk(out string) (*measurement, error) {
	m := &measurement{Tool: "wrk", Codes: map[string]int{}}
	var seconds float64
	found := false
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		var conn, read, write, status, timeout int
		var p50, p99 float64
		if n, _ := fmt.Sscanf(line, "wrk: requests=%d errors(connect=%d read=%d write=%d status=%d timeout=%d) p50=%fms p99=%fms",
			&m.Requests, &conn, &read, &write, &status, &timeout, &p50, &p99); n == 8 {
			found = true
			m.P50 = time.Duration(p50 * float64(time.Millisecond))
			m.P99 = time.Duration(p99 * float64(time.Millisecond))
			// Answers with a status above 399 are in requests; failed connections, reads,
			// writes and timeouts are not.
			m.OK = m.Requests - status
			m.Requests += read + write + timeout
			if status > 0 {
				m.Codes["non-2xx"] = status
			}
			if e := read + write + timeout; e > 0 || conn > 0 {
				m.Codes["0"] = e + conn
				m.Errors = append(m.Errors, fmt.Sprintf("socket errors: connect %d, read %d, write %d, timeout %d", conn, read, write, timeout))
			}
		}
		// "1234 requests in 20.01s, 1.2MB read"
		var reqs int
		var in string
		if n, _ := fmt.Sscanf(line, "%d requests in %s", &reqs, &in); n == 2 {
			if d, err := time.ParseDuration(strings.TrimSuffix(in, ",")); err == nil {
				seconds = d.Seconds()
			}
		}
	}
	if !found || seconds == 0 {
		return nil, errors.New("summary not found in wrk's output")
	}
	m.OK = max(m.OK, 0)
	m.Rate = float64(m.OK) / seconds
	return m, nil
}

// pgbench runs the single-row INSERT of scripts/bench.sh: at rate transactions/s (-R, latency
// counted from each transaction's scheduled start, as an open-loop generator does), or with
// rate 0 as fast as -conns clients go. Percentiles come from its per-transaction log.
func (r *runner) pgbench(name, dbURL, script string, rate int, d time.Duration, warmup bool) (*measurement, error) {
	logDir := filepath.Join(r.work, name+"-log")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, fmt.Errorf("pgbench log directory: %w", err)
	}
	args := []string{"-n", "-c", strconv.Itoa(r.o.conns), "-j", "2", "-T", strconv.Itoa(int(d.Seconds())),
		"-f", script, "-l", "--log-prefix=" + filepath.Join(logDir, "tx")}
	if rate > 0 {
		args = append(args, "-R", strconv.Itoa(rate))
	}
	cmd := exec.CommandContext(r.ctx, r.bin["pgbench"], append(args, dbURL)...)
	out, err := cmd.CombinedOutput()
	if werr := os.WriteFile(filepath.Join(r.raw, name+".pgbench.txt"), out, 0o644); werr != nil {
		return nil, fmt.Errorf("keep pgbench output: %w", werr)
	}
	if err != nil {
		return nil, fmt.Errorf("pgbench (%s): %w: %s", name, err, out)
	}
	if warmup {
		// 32 clients connecting on a busy machine may use the whole warm-up second: it only
		// has to have run.
		return nil, nil
	}
	m := &measurement{Tool: "pgbench", Codes: map[string]int{}}
	tps, failed := parsePgbench(string(out))
	m.Rate = tps
	if failed > 0 {
		m.Codes["failed"] = failed
		m.Errors = append(m.Errors, fmt.Sprintf("%d failed transactions", failed))
	}
	lat, err := pgbenchLatencies(logDir)
	if err != nil {
		return nil, fmt.Errorf("pgbench log (%s): %w", name, err)
	}
	if len(lat) == 0 || m.Rate == 0 {
		return nil, fmt.Errorf("pgbench (%s): no transactions or no tps in its output: %s", name, out)
	}
	m.Requests = len(lat) + m.Codes["failed"]
	m.OK = len(lat)
	m.P50, m.P99 = percentile(lat, 0.50), percentile(lat, 0.99)
	r.logMeasurement(name, m)
	return m, nil
}

// parsePgbench reads pgbench's summary: transactions per second (without the initial connection
// time, which 32 clients on a busy machine can stretch to seconds) and failed transactions.
func parsePgbench(out string) (tps float64, failed int) {
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		var v float64
		if n, _ := fmt.Sscanf(line, "tps = %f", &v); n == 1 && tps == 0 {
			tps = v
		}
		var f int
		if n, _ := fmt.Sscanf(line, "number of failed transactions: %d", &f); n == 1 {
			failed = f
		}
	}
	return tps, failed
}

// pgbenchLatencies reads every per-transaction log line ("client tx time_us script epoch us
// [lag]"); failed transactions are logged with "failed" in the time column and skipped.
func pgbenchLatencies(dir string) ([]time.Duration, error) {
	files, err := filepath.Glob(filepath.Join(dir, "tx*"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no per-transaction log in %s", dir)
	}
	var lat []time.Duration
	for _, p := range files {
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 3 {
				continue
			}
			us, err := strconv.ParseInt(fields[2], 10, 64)
			if err != nil {
				continue
			}
			lat = append(lat, time.Duration(us)*time.Microsecond)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
	}
	slices.Sort(lat)
	return lat, nil
}

// percentile of sorted values, nearest rank.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// checkConstant: at a constant rate every request must be answered 2xx.
func (r *runner) checkConstant(label string, m *measurement) {
	if m.Requests == 0 {
		r.problem("%s: no request was sent", label)
	} else if m.non2xx() > 0 {
		r.problem("%s: %d of %d requests not answered 2xx at a constant rate (codes %v, errors %v)",
			label, m.non2xx(), m.Requests, m.Codes, firstN(m.Errors, 3))
	}
}

// checkMax: at the maximum rate a 4xx is breakage and nothing succeeding is too; 5xx and
// timeouts are what overload looks like, reported in the table only.
func (r *runner) checkMax(label string, m *measurement) {
	if m.OK == 0 {
		r.problem("%s: no request answered 2xx (codes %v, errors %v)", label, m.Codes, firstN(m.Errors, 3))
	} else if m.has4xx() {
		r.problem("%s: requests refused with 4xx at the maximum rate (codes %v)", label, m.Codes)
	}
}

func firstN(s []string, n int) []string { return s[:min(n, len(s))] }

// bareRow measures scripts/barehandler with the REST requests and tools the gateway's REST row
// gets, on its own new database.
func (r *runner) bareRow() (*row, error) {
	r.logf("bare handler (echo + validator + pgx) on PostgreSQL")
	dbURL, err := r.freshDB()
	if err != nil {
		return nil, err
	}
	defer r.dropDB(context.Background(), dbName(dbURL))
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	u := base + "/v1/submissions"
	warm, constant, maxT, err := r.prepare("vegeta", u, "bare-key")
	if err != nil {
		return nil, err
	}
	s, err := r.start("barehandler", filepath.Join(r.raw, "bare.log"), "-listen", fmt.Sprintf("127.0.0.1:%d", port),
		"-db", dbURL, "-conns", strconv.Itoa(r.o.conns))
	if err != nil {
		return nil, err
	}
	defer s.stop()
	if err := s.waitReady(r.ctx, base+"/", 0); err != nil {
		return nil, fmt.Errorf("bare handler: %w", err)
	}
	row := &row{Store: "PostgreSQL", Workload: "bare echo + validator + pgx INSERT", Kind: "bare", Stored: -1}
	if err := r.measure(row, "bare", warm, constant, maxT); err != nil {
		return nil, err
	}
	if row.Wrk, err = r.wrk("bare-max", u, "bare-key", r.o.duration); err != nil {
		return nil, err
	}
	r.checkMax("bare handler, wrk", row.Wrk)
	if !s.alive() {
		r.problem("bare handler exited during the run: %s", tail(s.log))
	}
	row.RSSKiB = s.peakRSS()
	return row, nil
}

// prepare writes the warm-up, constant-rate and maximum-rate target files of one row.
func (r *runner) prepare(mode, u, key string) (warm, constant, maxT targetFile, err error) {
	// Digits only, as bench-channels.sh's $RANDOM: the prefix becomes part of WeChat openids and
	// Twilio MessageSids, and the row number keeps each row's messages apart from the others'.
	r.seq++
	tag := fmt.Sprintf("%d%04d", r.seq, rand.IntN(10000))
	warm.n = int(r.o.warmup.Seconds()*float64(r.o.rate)) + r.o.rate
	constant.n = int(r.o.duration.Seconds()*float64(r.o.rate)) + r.o.rate
	maxT.n = int(r.o.duration.Seconds() * float64(r.o.maxCap))
	if warm.path, err = r.targets(mode, u, key, tag+"1", warm.n); err != nil {
		return
	}
	if constant.path, err = r.targets(mode, u, key, tag+"2", constant.n); err != nil {
		return
	}
	maxT.path, err = r.targets(mode, u, key, tag+"3", maxT.n)
	return
}

type targetFile struct {
	path string
	n    int
}

// measure runs the warm-up (its stall on a fresh process's first requests is not reported, but
// its failures are), the constant rate and the maximum rate with vegeta.
func (r *runner) measure(row *row, name string, warm, constant, maxT targetFile) error {
	var err error
	if row.Warm, err = r.vegeta(name+"-warmup", warm.path, r.o.rate, 0, r.o.warmup, warm.n); err != nil {
		return err
	}
	r.checkConstant(name+" warm-up", row.Warm)
	if row.Constant, err = r.vegeta(name+"-constant", constant.path, r.o.rate, 0, r.o.duration, constant.n); err != nil {
		return err
	}
	r.checkConstant(name+" at "+strconv.Itoa(r.o.rate)+"/s", row.Constant)
	if row.Max, err = r.vegeta(name+"-max", maxT.path, 0, r.o.conns, r.o.duration, maxT.n); err != nil {
		return err
	}
	r.checkMax(name+" at the maximum rate", row.Max)
	return nil
}

func (r *runner) pgbenchRow() (*row, error) {
	r.logf("pgbench single-row INSERT on PostgreSQL")
	dbURL, err := r.freshDB()
	if err != nil {
		return nil, err
	}
	defer r.dropDB(context.Background(), dbName(dbURL))
	conn, err := pgx.Connect(r.ctx, dbURL)
	if err != nil {
		return nil, fmt.Errorf("connect to the pgbench database: %w", err)
	}
	_, err = conn.Exec(r.ctx, `CREATE TABLE pgbench_insert (id bigserial PRIMARY KEY, payload text NOT NULL, at timestamptz NOT NULL DEFAULT now())`)
	conn.Close(r.ctx)
	if err != nil {
		return nil, fmt.Errorf("create the pgbench table: %w", err)
	}
	script := filepath.Join(r.work, "insert.sql")
	// The same statement scripts/bench.sh has always measured: one row of a typical text's size.
	if err := os.WriteFile(script, []byte("INSERT INTO pgbench_insert (payload) VALUES ('小区门口的路灯坏了快一个星期了，晚上出门特别黑，请尽快派人维修。');\n"), 0o644); err != nil {
		return nil, fmt.Errorf("pgbench script: %w", err)
	}
	row := &row{Store: "PostgreSQL", Workload: "pgbench single-row INSERT", Kind: "pgbench", Stored: -1}
	if _, err := r.pgbench("pgbench-warmup", dbURL, script, r.o.rate, r.o.warmup, true); err != nil {
		return nil, err
	}
	if row.Constant, err = r.pgbench("pgbench-constant", dbURL, script, r.o.rate, r.o.duration, false); err != nil {
		return nil, err
	}
	r.checkConstant("pgbench at "+strconv.Itoa(r.o.rate)+"/s", row.Constant)
	if row.Max, err = r.pgbench("pgbench-max", dbURL, script, 0, r.o.duration, false); err != nil {
		return nil, err
	}
	r.checkMax("pgbench at the maximum rate", row.Max)
	return row, nil
}

// gateway is a started gateway with the bench accounts, on its own new store.
type gateway struct {
	s         *server
	store     string
	base      string
	metrics   string
	key       string
	cleanup   []func()
	storeName string
}

// startGateway starts a gateway on a new empty store (a new PostgreSQL database, or a new
// SQLite file) with every entrance the rows measure.
func (r *runner) startGateway(store, name string) (g *gateway, err error) {
	g = &gateway{store: store, storeName: map[string]string{"postgres": "PostgreSQL", "sqlite": "SQLite"}[store]}
	defer func() {
		if err != nil {
			g.stop()
		}
	}()
	dir := filepath.Join(r.work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return g, fmt.Errorf("store directory: %w", err)
	}
	g.cleanup = append(g.cleanup, func() { os.RemoveAll(dir) })
	dbURL := ""
	if store == "postgres" {
		if dbURL, err = r.freshDB(); err != nil {
			return g, err
		}
		g.cleanup = append(g.cleanup, func() { r.dropDB(context.Background(), dbName(dbURL)) })
	} else {
		// No database for this gateway, but the same CHECKPOINT before it starts: the earlier
		// rows' pages must not be written out by PostgreSQL during the SQLite rows.
		conn, err := pgx.Connect(r.ctx, r.o.adminURL)
		if err != nil {
			return g, fmt.Errorf("connect to PostgreSQL: %w", err)
		}
		r.checkpoint(conn)
		conn.Close(r.ctx)
	}
	port, err := freePort()
	if err != nil {
		return g, err
	}
	adminPort, err := freePort()
	if err != nil {
		return g, err
	}
	g.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	g.metrics = fmt.Sprintf("http://127.0.0.1:%d/metrics", adminPort)
	g.key = fmt.Sprintf("bench-key-%d", time.Now().UnixNano())
	sum := sha256.Sum256([]byte(g.key))
	// Rate limits are lifted: one client at full speed is what is measured, and the per-key and
	// per-citizen buckets would answer it 429. The channel accounts are the ones scripts/loadgen
	// signs for.
	cfg := fmt.Sprintf(`server: { listen: "127.0.0.1:%d", public_base_url: %q, request_timeout: 10s, admin_listen: "127.0.0.1:%d" }
database: { url: %q, sqlite_path: %q, attachments_dir: %q }
log: { level: warn, format: json }
rate_limits: { api_key: { rate: 0 }, sender: { rate: 0 } }
api_keys: [{ name: bench, sha256: %q, scopes: [submit, read] }]
channels:
  - { id: wechat-bench, type: wechat, app_id: wxbench0000000001, app_secret: s, token: benchtoken,
      encoding_aes_key: jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C, mode: safe, account_id: gh_bench00000001 }
  - { id: sms-bench, type: twilio, account_sid: ACbench0000000000000000000000000000, auth_token: benchauthtoken0000000000000000aa, from: "+15005550006" }
`, port, g.base, adminPort, dbURL, filepath.Join(dir, "intake.db"), filepath.Join(dir, "attachments"), hex.EncodeToString(sum[:]))
	cfgPath := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return g, fmt.Errorf("gateway config: %w", err)
	}
	if g.s, err = r.start("intake-gateway", filepath.Join(r.raw, name+".log"), "serve", "--config", cfgPath); err != nil {
		return g, err
	}
	if err := g.s.waitReady(r.ctx, g.base+"/readyz", http.StatusOK); err != nil {
		return g, fmt.Errorf("gateway (%s): %w", name, err)
	}
	return g, nil
}

func (g *gateway) stop() {
	if g.s != nil {
		g.s.stop()
	}
	for i := len(g.cleanup) - 1; i >= 0; i-- {
		g.cleanup[i]()
	}
	g.cleanup = nil
}

// channelRow measures one entrance of a started gateway.
func (r *runner) channelRow(g *gateway, channel string) (*row, error) {
	label := map[string]string{"rest": "REST POST /v1/submissions", "wechat": "WeChat safe-mode text", "twilio": "Twilio SMS (signed)"}[channel]
	name := g.store + "-" + channel
	r.logf("gateway, %s, %s", g.storeName, label)
	var u, mode string
	switch channel {
	case "rest":
		u, mode = g.base+"/v1/submissions", "vegeta"
	case "wechat":
		u, mode = g.base+"/hooks/wechat/wechat-bench", "wechat"
	case "twilio":
		u, mode = g.base+"/hooks/twilio/sms-bench/sms", "twilio"
	}
	warm, constant, maxT, err := r.prepare(mode, u, g.key)
	if err != nil {
		return nil, err
	}
	storedBefore := casesCreated(g.metrics)
	row := &row{Store: g.storeName, Workload: label, Kind: "gateway"}
	if err := r.measure(row, name, warm, constant, maxT); err != nil {
		return nil, err
	}
	if channel == "rest" {
		if row.Wrk, err = r.wrk(name+"-max", u, g.key, r.o.duration); err != nil {
			return nil, err
		}
		r.checkMax(name+", wrk", row.Wrk)
	}
	if !g.s.alive() {
		r.problem("gateway (%s) exited during the run: %s", name, tail(g.s.log))
	}
	row.RSSKiB = g.s.peakRSS()
	row.Stored = -1
	if after := casesCreated(g.metrics); after >= 0 && storedBefore >= 0 {
		row.Stored = after - storedBefore
	}
	return row, nil
}

// casesCreated sums intake_cases_created_total from the admin listener (-1 when unreadable):
// the report shows it beside the 2xx answers, so a gateway that answers without storing shows.
// Before the first case the counter has no series at all, which is 0.
func casesCreated(u string) int64 {
	resp, err := http.Get(u)
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return -1
	}
	var total float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "intake_cases_created_total") {
			continue
		}
		fields := strings.Fields(line)
		if v, err := strconv.ParseFloat(fields[len(fields)-1], 64); err == nil {
			total += v
		}
	}
	if sc.Err() != nil {
		return -1
	}
	return int64(total)
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func gitDescribe() string {
	out, err := exec.Command("git", "describe", "--tags", "--always", "--dirty").Output()
	if err != nil {
		return "unknown build"
	}
	return strings.TrimSpace(string(out))
}

// report renders the Markdown report: the figures, then the ratios to the yardsticks.
func (r *runner) report(rows []*row, start time.Time, load0, load1 string, took time.Duration) string {
	var bare, pgb *row
	for _, x := range rows {
		switch x.Kind {
		case "bare":
			bare = x
		case "pgbench":
			pgb = x
		}
	}
	var b strings.Builder
	mode := "full"
	if r.o.short {
		mode = "short (CI)"
	}
	gw := "built from the work tree"
	if r.o.gatewayBin != "" {
		gw = r.o.gatewayBin
	}
	fmt.Fprintf(&b, "# Load report, %s\n\n", start.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(&b, "- %s run, gateway %s (%s); %d cores; load average %s at the start, %s at the end; %s in all\n",
		mode, gitDescribe(), gw, runtime.NumCPU(), load0, load1, took.Round(time.Second))
	fresh := "every row a new empty database or SQLite file and a freshly started server"
	if r.o.short {
		fresh = "the yardsticks on new databases; one freshly started gateway per store, on a new store, serves its three rows (peak RSS is then that process's so far)"
	}
	fmt.Fprintf(&b, "- PostgreSQL %s (-db); %s; each row after a %s warm-up at the constant rate (not reported)\n",
		r.pgServer, fresh, r.o.warmup)
	fmt.Fprintf(&b, "- constant rate: %d/s for %s, open loop (vegeta; pgbench -R); maximum rate: %d concurrent senders for %s, closed loop (vegeta workers; wrk connections; pgbench clients)\n",
		r.o.rate, r.o.duration, r.o.conns, r.o.duration)
	b.WriteString("- load generator, servers and PostgreSQL share the machine: read the ratios of this run, not the rates\n")
	b.WriteString("- cases stored / 2xx: cases the gateway counted as created during the row against its 2xx answers (warm-up included); a closed-loop tool stops with requests in flight, which are stored but not counted as answered\n\n")

	b.WriteString("| store | workload | p50 at rate | p99 at rate | 2xx at rate | max 2xx/s | p50 at max | p99 at max | non-2xx at max | peak RSS | cases stored / 2xx |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, x := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			x.Store, x.Workload, ms(x.Constant.P50), ms(x.Constant.P99), okShare(x.Constant),
			rate(x.Max.Rate), ms(x.Max.P50), ms(x.Max.P99), strconv.Itoa(x.Max.non2xx()), mib(x.RSSKiB), stored(x))
		if x.Wrk != nil {
			fmt.Fprintf(&b, "| %s | %s, wrk | | | | %s | %s | %s | %s | | |\n",
				x.Store, x.Workload, rate(x.Wrk.Rate), ms(x.Wrk.P50), ms(x.Wrk.P99), strconv.Itoa(x.Wrk.non2xx()))
		}
	}

	b.WriteString("\nRatios of each gateway row to the yardsticks on the same PostgreSQL in this run ")
	b.WriteString("(throughput: gateway ÷ yardstick, below 1 is slower; latency and memory: gateway ÷ yardstick, above 1 is slower or bigger). ")
	b.WriteString("The bare handler and pgbench measure PostgreSQL's side only; the SQLite rows are set against them too.\n\n")
	b.WriteString("| store | workload | max ÷ bare | max ÷ pgbench | p50 at rate ÷ bare | p99 at rate ÷ bare | p99 at rate ÷ pgbench | peak RSS ÷ bare |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|\n")
	for _, x := range rows {
		if x.Kind != "gateway" {
			continue
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", x.Store, x.Workload,
			ratio(x.Max.Rate, bare.Max.Rate), ratio(x.Max.Rate, pgb.Max.Rate),
			ratio(x.Constant.P50.Seconds(), bare.Constant.P50.Seconds()), ratio(x.Constant.P99.Seconds(), bare.Constant.P99.Seconds()),
			ratio(x.Constant.P99.Seconds(), pgb.Constant.P99.Seconds()), ratio(float64(x.RSSKiB), float64(bare.RSSKiB)))
		if x.Wrk != nil && bare.Wrk != nil {
			fmt.Fprintf(&b, "| %s | %s, wrk | %s | %s | | | | |\n", x.Store, x.Workload,
				ratio(x.Wrk.Rate, bare.Wrk.Rate), ratio(x.Wrk.Rate, pgb.Max.Rate))
		}
	}

	var notes []string
	for _, x := range rows {
		for _, m := range []*measurement{x.Constant, x.Max, x.Wrk} {
			if m != nil && m.Note != "" {
				notes = append(notes, fmt.Sprintf("%s, %s (%s): %s", x.Store, x.Workload, m.Tool, m.Note))
			}
			if m != nil && m.non2xx() > 0 {
				notes = append(notes, fmt.Sprintf("%s, %s (%s): %d non-2xx of %d, codes %v %v", x.Store, x.Workload, m.Tool,
					m.non2xx(), m.Requests, m.Codes, firstN(m.Errors, 3)))
			}
		}
	}
	if len(notes) > 0 {
		b.WriteString("\nNotes:\n\n")
		for _, n := range notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	if len(r.problems) > 0 {
		b.WriteString("\n**FAILED** (breakage, not speed):\n\n")
		for _, p := range r.problems {
			fmt.Fprintf(&b, "- %s\n", p)
		}
	} else {
		b.WriteString("\nNo breakage: every request at the constant rate was answered 2xx and none was refused with 4xx.\n")
	}
	return b.String()
}

func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f ms", v)
	}
}

func rate(v float64) string { return thousands(int64(math.Round(v))) + "/s" }

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func okShare(m *measurement) string {
	if m.Requests == 0 {
		return "0 sent"
	}
	return fmt.Sprintf("%s/%s", thousands(int64(m.OK)), thousands(int64(m.Requests)))
}

func mib(kib int64) string {
	if kib <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.0f MiB", float64(kib)/1024)
}

// stored is "cases stored / 2xx answers" over the row's whole life, warm-up included.
func stored(x *row) string {
	if x.Stored < 0 {
		return "—"
	}
	ok := 0
	for _, m := range []*measurement{x.Warm, x.Constant, x.Max, x.Wrk} {
		if m != nil {
			ok += m.OK
		}
	}
	return thousands(x.Stored) + " / " + thousands(int64(ok))
}

func ratio(a, b float64) string {
	if b == 0 || a == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}
