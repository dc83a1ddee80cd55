package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
)

// phase is good traffic over one period of the signature test.
type phase struct {
	Name      string
	Sent, OK  int
	PerSecond float64 // acknowledged per second
	P50, P99  time.Duration
	// GatewayCPU is the CPU time the gateway used during the phase (0 when it could not be read).
	GatewayCPU time.Duration
}

// round is good traffic in the three conditions compared: quiet, under the attack on the
// gateway, and beside the floor attack (the same requests to a bare server that answers 403).
type round struct {
	Quiet, Attack, Floor phase
}

type abuseResult struct {
	// Throttling: the flooding sender's answers and the other senders'.
	FloodSent, FloodOK, Flood429 int
	OthersSent, OthersOK         int
	// Bad signatures sent to the gateway, per attack; their answers over all attacks.
	BadSent     []int
	BadStatuses map[string]int
	FloorSent   []int
	BadCreated  int // cases bearing the attack's message ids (must be 0)
	CaseDelta   int // cases created during the signature test
	GoodAcked   int // good messages acknowledged in it (each a new citizen's new case)
	Warmup      phase
	Rounds      []round
	Err         error
}

// ratios is good traffic under an attack relative to the quiet phase of the same round.
type ratios struct {
	Throughput, P50, P99 float64
}

func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}

func phaseRatios(under, quiet phase) ratios {
	return ratios{
		Throughput: ratio(under.PerSecond, quiet.PerSecond),
		P50:        ratio(float64(under.P50), float64(quiet.P50)),
		P99:        ratio(float64(under.P99), float64(quiet.P99)),
	}
}

// medianRatios are the medians over the rounds of the attack's and the floor's ratios.
func (r abuseResult) medianRatios() (attack, floor ratios) {
	var at, fl [3][]float64
	for _, rd := range r.Rounds {
		a, f := phaseRatios(rd.Attack, rd.Quiet), phaseRatios(rd.Floor, rd.Quiet)
		for i, v := range [3]float64{a.Throughput, a.P50, a.P99} {
			at[i] = append(at[i], v)
		}
		for i, v := range [3]float64{f.Throughput, f.P50, f.P99} {
			fl[i] = append(fl[i], v)
		}
	}
	return ratios{median(at[0]), median(at[1]), median(at[2])}, ratios{median(fl[0]), median(fl[1]), median(fl[2])}
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// cpuPerBadRequest is the median over the rounds of the gateway's extra CPU time in the attack
// phase, per bad request sent: what one forged request costs the gateway. The baseline is the
// mean of the round's quiet and floor phases, which carry the same good traffic and no attack on
// the gateway (the deliveries of earlier phases' cases spill into each, so one alone is noisy).
func (r abuseResult) cpuPerBadRequest() time.Duration {
	var per []float64
	for i, rd := range r.Rounds {
		if i >= len(r.BadSent) || r.BadSent[i] == 0 || rd.Attack.GatewayCPU == 0 || rd.Quiet.GatewayCPU == 0 || rd.Floor.GatewayCPU == 0 {
			continue
		}
		base := float64(rd.Quiet.GatewayCPU+rd.Floor.GatewayCPU) / 2
		per = append(per, (float64(rd.Attack.GatewayCPU)-base)/float64(r.BadSent[i]))
	}
	return time.Duration(median(per))
}

// The bound on good traffic under the attack: at most 10 % slower (p50) and at least
// 90 % of the throughput.
const (
	maxSlowdown      = 1.10
	minThroughputRat = 0.90
)

// timingVerdict judges the medians. met: the bound holds as it states it. Where it does
// not and the floor alone (a bare 403 server taking the same attack on this machine) already
// slows good traffic past the bound, the bound is unattainable here, and the gateway is held to
// within 10 % of the floor instead: ok tells whether it is. Never ok when neither holds; met is
// never claimed when the absolute bound failed.
func timingVerdict(attack, floor ratios) (met, ok bool, line string) {
	if attack.P50 <= maxSlowdown && attack.Throughput >= minThroughputRat {
		return true, true, fmt.Sprintf("PASS: under the attack good traffic keeps p50 ×%.3f (≤ %.2f) and throughput ×%.3f (≥ %.2f)",
			attack.P50, maxSlowdown, attack.Throughput, minThroughputRat)
	}
	if floor.P50 > maxSlowdown || floor.Throughput < minThroughputRat {
		line = fmt.Sprintf("bound NOT MET as the issue states it (p50 ×%.3f, throughput ×%.3f); the bare 403 server alone slows good traffic by p50 ×%.3f, throughput ×%.3f — unattainable on this machine. ",
			attack.P50, attack.Throughput, floor.P50, floor.Throughput)
		relP50, relTP := ratio(attack.P50, floor.P50), ratio(attack.Throughput, floor.Throughput)
		if relP50 <= maxSlowdown && relTP >= minThroughputRat {
			return false, true, line + fmt.Sprintf("Relative to the floor: p50 ×%.3f, throughput ×%.3f — within 10 %% of the floor", relP50, relTP)
		}
		return false, false, line + fmt.Sprintf("Relative to the floor: p50 ×%.3f, throughput ×%.3f — FAIL: more than 10 %% beyond the floor", relP50, relTP)
	}
	return false, false, fmt.Sprintf("FAIL: under the attack good traffic has p50 ×%.3f, throughput ×%.3f, while the floor stays within the bound (p50 ×%.3f, throughput ×%.3f)",
		attack.P50, attack.Throughput, floor.P50, floor.Throughput)
}

// problems lists every check of the abuse suite that failed; empty when it passed.
func (r abuseResult) problems(d durations) []string {
	var out []string
	add := func(bad bool, format string, args ...any) {
		if bad {
			out = append(out, fmt.Sprintf(format, args...))
		}
	}
	if r.Err != nil {
		return []string{r.Err.Error()}
	}
	add(r.BadCreated != 0, "%d cases bear the bad requests' message ids", r.BadCreated)
	add(r.CaseDelta != r.GoodAcked, "%d cases were created while %d good messages were acknowledged", r.CaseDelta, r.GoodAcked)
	add(len(r.Rounds) < d.Rounds, "only %d of %d rounds ran", len(r.Rounds), d.Rounds)
	for i, n := range r.BadSent {
		add(n < d.BadRequests, "attack %d: only %d of %d bad requests were sent", i+1, n, d.BadRequests)
	}
	// The flood is mostly refused, the others all served.
	add(r.FloodSent == 0 || r.Flood429*2 < r.FloodSent, "the flooding sender was refused %d times of %d", r.Flood429, r.FloodSent)
	add(r.OthersSent == 0 || r.OthersOK != r.OthersSent, "the other senders were served %d times of %d", r.OthersOK, r.OthersSent)
	for code, n := range r.BadStatuses {
		c, err := strconv.Atoi(code)
		add(n > 0 && (err != nil || c < 400 || c >= 500), "%d bad requests were answered %s, not a clear 4xx", n, code)
	}
	if d.StrictTimings && len(r.Rounds) > 0 {
		attack, floor := r.medianRatios()
		if _, ok, line := timingVerdict(attack, floor); !ok {
			out = append(out, line)
		}
	}
	return out
}

func (s *suite) runAbuse(ctx context.Context) (res abuseResult) {
	// The example config's rate limits apply (sender 0.5/s with a burst of 20; failed
	// authentication 1/s per address with a burst of 30).
	if err := s.startGateway(ctx, "abuse", "chaos_abuse", ""); err != nil {
		res.Err = err
		return res
	}
	defer s.gw.stop(syscall.SIGTERM)
	log.Printf("abuse: one SMS sender at 100/s for %s beside 20 senders at 0.4/s", s.d.ThrottleFor)
	s.throttle(ctx, &res)
	if ctx.Err() != nil {
		return res
	}
	log.Printf("abuse: %d rounds of %s quiet, %s with %d bad signatures at %.0f/s, %s with them sent to a bare 403 server; good traffic %.0f/s",
		s.d.Rounds, s.d.GoodFor, s.d.GoodFor, s.d.BadRequests, s.d.AttackRate, s.d.GoodFor, s.d.GoodRate)
	if err := s.badSignatures(ctx, &res); err != nil {
		res.Err = err
	}
	return res
}

func (s *suite) throttle(ctx context.Context, res *abuseResult) {
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	ctx, cancel := context.WithTimeout(ctx, s.d.ThrottleFor)
	defer cancel()
	var (
		wg                           sync.WaitGroup
		floodSent, floodOK, flood429 atomic.Int64
		othersSent, othersOK         atomic.Int64
		seq                          atomic.Int64
	)
	send := func(from string, sent, ok, tooMany *atomic.Int64) {
		defer wg.Done()
		n := seq.Add(1)
		sub := smsSubmission(s.gw.base, twilioToken, fmt.Sprintf("SMthr%s%020d", s.runID, n), from, texts[int(n)%len(texts)])
		// A request cut short by the end of the run is not counted: it was never answered.
		status, _, err := attempt(context.WithoutCancel(ctx), client, sub)
		sent.Add(1)
		if err == nil && status >= 200 && status < 300 {
			ok.Add(1)
		}
		if tooMany != nil && status == http.StatusTooManyRequests {
			tooMany.Add(1)
		}
	}
	// The flood: 100 messages a second from one number.
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				wg.Add(1)
				go send("+8613900000066", &floodSent, &floodOK, &flood429)
			}
		}
	}()
	// 20 citizens writing every 2.5 s, under the sender limit.
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from := fmt.Sprintf("+86137000%05d", i)
			if sleep(ctx, rand.N(2500*time.Millisecond)) != nil {
				return
			}
			tick := time.NewTicker(2500 * time.Millisecond)
			defer tick.Stop()
			for {
				wg.Add(1)
				go send(from, &othersSent, &othersOK, nil)
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		}()
	}
	wg.Wait()
	res.FloodSent, res.FloodOK, res.Flood429 = int(floodSent.Load()), int(floodOK.Load()), int(flood429.Load())
	res.OthersSent, res.OthersOK = int(othersSent.Load()), int(othersOK.Load())
}

func (s *suite) caseCount(ctx context.Context) (int, error) {
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return 0, fmt.Errorf("connect to the store: %w", err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, "SELECT count(*) FROM cases").Scan(&n)
	return n, err
}

// badSignatures runs good traffic after a warm-up in rounds of three phases: quiet, under the
// attack on the gateway, and beside the same attack on a bare 403 server (the floor). The table
// lists the phases of a round in a fixed order; they ran in the order of the log line.
func (s *suite) badSignatures(ctx context.Context, res *abuseResult) error {
	before, err := s.caseCount(ctx)
	if err != nil {
		return err
	}
	good := newLoader(s.gw.base, "g"+s.runID, 10_000_000)
	bad, badIDs, err := s.prepareAttack()
	if err != nil {
		return err
	}
	floor, err := startFloorServer()
	if err != nil {
		return err
	}
	defer floor.Close()
	var mu sync.Mutex
	res.BadStatuses = map[string]int{}
	floorStatuses := map[string]int{}
	// phaseWith runs good traffic for length, with the attack sent to target ("" for none).
	phaseWith := func(name string, length time.Duration, target string) (phase, int) {
		pctx, cancel := context.WithTimeout(ctx, length)
		defer cancel()
		var wg sync.WaitGroup
		sent := 0
		if target != "" {
			statuses := res.BadStatuses
			if target != s.gw.base {
				statuses = floorStatuses
			}
			wg.Add(1)
			go func() { defer wg.Done(); sent = s.attack(pctx, target, bad, statuses, &mu) }()
		}
		cpu0, cpuErr := s.gw.p.cpu()
		p := s.goodPhase(pctx, good, name)
		wg.Wait()
		if cpu1, err := s.gw.p.cpu(); err == nil && cpuErr == nil {
			p.GatewayCPU = cpu1 - cpu0
		}
		res.GoodAcked += p.OK
		return p, sent
	}
	// A warm-up of the same traffic first, not compared: the first seconds after the flood of
	// the throttling test were the slowest of every run, which would flatter the attack.
	res.Warmup, _ = phaseWith("warm-up", s.d.GoodFor/2, "")
	for i := range s.d.Rounds {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var rd round
		// The order of the phases turns from round to round, so that a drift of the shared
		// machine's other load favours none of them in the medians.
		order := []string{"quiet", "attack", "floor"}
		for range i % len(order) {
			order = append(order[1:], order[0])
		}
		for _, kind := range order {
			name := fmt.Sprintf("%d %s", i+1, kind)
			switch kind {
			case "quiet":
				rd.Quiet, _ = phaseWith(name, s.d.GoodFor, "")
			case "attack":
				var n int
				rd.Attack, n = phaseWith(name, s.d.GoodFor, s.gw.base)
				res.BadSent = append(res.BadSent, n)
			case "floor":
				var n int
				rd.Floor, n = phaseWith(name, s.d.GoodFor, "http://"+floor.Addr)
				res.FloorSent = append(res.FloorSent, n)
			}
		}
		res.Rounds = append(res.Rounds, rd)
		log.Printf("abuse: round %d (%v): p50 quiet %s, attack %s, floor %s", i+1, order,
			rd.Quiet.P50.Round(10*time.Microsecond), rd.Attack.P50.Round(10*time.Microsecond), rd.Floor.P50.Round(10*time.Microsecond))
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if floorStatuses["403"] != sum(res.FloorSent) {
		return fmt.Errorf("the floor server answered %s, not 403 to every request", statusLine(floorStatuses))
	}
	after, err := s.caseCount(ctx)
	if err != nil {
		return err
	}
	res.CaseDelta = after - before
	conn, err := pgx.Connect(ctx, s.dbURL)
	if err != nil {
		return fmt.Errorf("connect to the store: %w", err)
	}
	defer conn.Close(ctx)
	return conn.QueryRow(ctx, "SELECT count(*) FROM cases WHERE external_id = ANY($1)", badIDs).Scan(&res.BadCreated)
}

func sum(v []int) int {
	n := 0
	for _, x := range v {
		n += x
	}
	return n
}

// floorServer answers 403 to everything at once, as cheaply as a Go HTTP server can: the attack
// sent to it measures what the attack's traffic alone costs this machine.
type floorServer struct {
	Addr string
	srv  *http.Server
}

func startFloorServer() (*floorServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("floor server: %w", err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	})}
	go func() { _ = srv.Serve(ln) }()
	return &floorServer{Addr: ln.Addr().String(), srv: srv}, nil
}

func (f *floorServer) Close() { _ = f.srv.Close() }

// goodPhase sends correctly signed WeChat messages, each a new citizen's, at GoodRate until ctx
// ends (open loop: the rate does not drop when answers slow down, so latency shows it; a
// closed-loop client would send less under the attack and hide it).
func (s *suite) goodPhase(ctx context.Context, l *loader, name string) phase {
	var (
		mu   sync.Mutex
		lats []time.Duration
		p    = phase{Name: name}
		wg   sync.WaitGroup
	)
	start := time.Now()
	tick := time.NewTicker(time.Duration(float64(time.Second) / s.d.GoodRate))
	defer tick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-tick.C:
		}
		n := l.seq.Add(1)
		sub := l.wechat(n, texts[int(n)%len(texts)])
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			status, _, err := attempt(context.WithoutCancel(ctx), l.client, sub)
			took := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			p.Sent++
			if err == nil && status >= 200 && status < 300 {
				p.OK++
				lats = append(lats, took)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lats)
	if len(lats) > 0 {
		p.P50 = lats[len(lats)/2]
		p.P99 = lats[len(lats)*99/100]
	}
	p.PerSecond = float64(p.OK) / elapsed.Seconds()
	return p
}

// prepared is a request built ahead, so that sending it costs the driver, which shares the
// machine with the gateway, as little as an attacker elsewhere would cost it.
type prepared struct {
	path   string // with the query: the same request goes to the gateway and to the floor
	header http.Header
	body   []byte
}

// prepareAttack builds BadRequests requests with bad signatures, WeChat and Twilio alternately,
// and returns them with the message ids they carry.
func (s *suite) prepareAttack() ([]prepared, []string, error) {
	out := make([]prepared, 0, s.d.BadRequests)
	ids := make([]string, 0, s.d.BadRequests)
	badBase := 1_000_000_000_000_000 + rand.Int64N(1_000_000_000_000_000)
	for i := range s.d.BadRequests {
		var sub submission
		if i%2 == 0 {
			sub = wechatSubmission(s.gw.base, strconv.FormatInt(badBase+int64(i), 10), fmt.Sprintf("oBad%s%010d", s.runID, i), texts[i%len(texts)], true)
		} else {
			sub = smsSubmission(s.gw.base, "not-the-auth-token-0000000000000", fmt.Sprintf("SMbad%s%020d", s.runID, i), fmt.Sprintf("+86136%08d", i), texts[i%len(texts)])
		}
		req, err := sub.req(context.Background())
		if err != nil {
			return nil, nil, fmt.Errorf("build a bad request: %w", err)
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, nil, fmt.Errorf("build a bad request: %w", err)
		}
		out = append(out, prepared{path: req.URL.RequestURI(), header: req.Header, body: body})
		ids = append(ids, sub.externalID)
	}
	return out, ids, nil
}

// attack sends the prepared requests to base at AttackRate (stopping early only if ctx ends),
// from another client address than the good traffic's (127.0.0.66), as an attacker elsewhere
// on the network would, and returns how many it sent.
func (s *suite) attack(ctx context.Context, base string, reqs []prepared, statuses map[string]int, mu *sync.Mutex) int {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 66)}, Timeout: 5 * time.Second}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	tick := time.NewTicker(time.Duration(float64(time.Second) / s.d.AttackRate))
	defer tick.Stop()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	sent := 0
	for _, p := range reqs {
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		sem <- struct{}{}
		sent++
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			key := "error"
			req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), "POST", base+p.path, bytes.NewReader(p.body))
			if err == nil {
				req.Header = p.header.Clone()
				var r *http.Response
				if r, err = client.Do(req); err == nil {
					_, _ = io.Copy(io.Discard, r.Body)
					r.Body.Close()
					key = strconv.Itoa(r.StatusCode)
				}
			}
			mu.Lock()
			statuses[key]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return sent
}

func printAbuse(w *os.File, r abuseResult, d durations) {
	fmt.Fprintln(w, "\nAbuse")
	if r.Err != nil {
		fmt.Fprintf(w, "  ERROR: %v\n", r.Err)
	}
	fmt.Fprintf(w, "one sender at 100/s for %s: %d sent, %d accepted, %d refused 429; 20 other senders: %d of %d served\n",
		d.ThrottleFor, r.FloodSent, r.FloodOK, r.Flood429, r.OthersOK, r.OthersSent)
	fmt.Fprintf(w, "bad signatures at %.0f/s: %v sent to the gateway per attack (%s), %v to the floor server; cases with their message ids: %d; cases created during the test: %d, good messages acknowledged: %d\n",
		d.AttackRate, r.BadSent, statusLine(r.BadStatuses), r.FloorSent, r.BadCreated, r.CaseDelta, r.GoodAcked)
	fmt.Fprintf(w, "good traffic: new WeChat citizens at %.0f/s, open loop; %d rounds of quiet / attack on the gateway / same attack on a bare 403 server (floor)\n", d.GoodRate, d.Rounds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tsent\tacknowledged\tper second\tp50\tp99\tgateway CPU\tp50 ratio\tp99 ratio\tthroughput ratio\t")
	row := func(p phase, rt *ratios) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%s\t%s\t%s\t", p.Name, p.Sent, p.OK, p.PerSecond, p.P50.Round(10*time.Microsecond), p.P99.Round(10*time.Microsecond), p.GatewayCPU)
		if rt == nil {
			fmt.Fprint(tw, "\t\t\t\n")
			return
		}
		fmt.Fprintf(tw, "%.3f\t%.3f\t%.3f\t\n", rt.P50, rt.P99, rt.Throughput)
	}
	if r.Warmup.Sent > 0 {
		row(r.Warmup, nil)
	}
	for _, rd := range r.Rounds {
		a, f := phaseRatios(rd.Attack, rd.Quiet), phaseRatios(rd.Floor, rd.Quiet)
		row(rd.Quiet, nil)
		row(rd.Attack, &a)
		row(rd.Floor, &f)
	}
	tw.Flush()
	if len(r.Rounds) > 0 {
		attack, floor := r.medianRatios()
		fmt.Fprintf(w, "medians over %d rounds, relative to quiet: attack p50 %.3f, p99 %.3f, throughput %.3f; floor p50 %.3f, p99 %.3f, throughput %.3f\n",
			len(r.Rounds), attack.P50, attack.P99, attack.Throughput, floor.P50, floor.P99, floor.Throughput)
		fmt.Fprintf(w, "gateway CPU per bad request (attack phase minus the mean of quiet and floor, median): %s\n", r.cpuPerBadRequest().Round(time.Microsecond))
		_, _, line := timingVerdict(attack, floor)
		if !d.StrictTimings {
			line += " (not enforced in the short run: a few seconds on a shared machine are too noisy)"
		}
		fmt.Fprintf(w, "verdict: %s\n", line)
	}
	for _, p := range r.problems(d) {
		fmt.Fprintf(w, "  FAILED: %s\n", p)
	}
}
