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
}

type abuseResult struct {
	// Throttling: the flooding sender's answers and the other senders'.
	FloodSent, FloodOK, Flood429 int
	OthersSent, OthersOK         int
	// Bad signatures.
	BadSent     int
	BadStatuses map[string]int
	BadCreated  int // cases bearing the attack's message ids (must be 0)
	CaseDelta   int // cases created during the signature test
	GoodAcked   int // good messages acknowledged in it (each a new citizen's new case)
	Phases      []phase
	Err         error
}

// ratios compares good traffic during the attack with the mean of before and after.
func (r abuseResult) ratios() (throughput, p50 float64) {
	if len(r.Phases) != 4 {
		return 0, 0
	}
	b, d, a := r.Phases[1], r.Phases[2], r.Phases[3]
	if base := (b.PerSecond + a.PerSecond) / 2; base > 0 {
		throughput = d.PerSecond / base
	}
	if base := (b.P50 + a.P50) / 2; base > 0 {
		p50 = float64(d.P50) / float64(base)
	}
	return throughput, p50
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
	add(r.BadSent < d.BadRequests, "only %d of %d bad requests were sent", r.BadSent, d.BadRequests)
	// The flood is mostly refused, the others all served.
	add(r.FloodSent == 0 || r.Flood429*2 < r.FloodSent, "the flooding sender was refused %d times of %d", r.Flood429, r.FloodSent)
	add(r.OthersSent == 0 || r.OthersOK != r.OthersSent, "the other senders were served %d times of %d", r.OthersOK, r.OthersSent)
	for code, n := range r.BadStatuses {
		c, err := strconv.Atoi(code)
		add(n > 0 && (err != nil || c < 400 || c >= 500), "%d bad requests were answered %s, not a clear 4xx", n, code)
	}
	if d.StrictTimings {
		tp, p50 := r.ratios()
		add(tp < 0.9, "good traffic's throughput fell to %.3f of its rate without the attack", tp)
		add(p50 > 1.1, "good traffic's p50 latency rose to %.3f of its latency without the attack", p50)
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
	log.Printf("abuse: %d bad signatures during %s of good traffic at %.0f/s (and %s before and after, after a warm-up)", s.d.BadRequests, s.d.GoodFor, s.d.GoodRate, s.d.GoodFor)
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

// badSignatures runs good traffic for three periods after a warm-up, the middle one under
// attack.
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
	var mu sync.Mutex
	res.BadStatuses = map[string]int{}
	// A warm-up of the same traffic first, not compared: the first seconds after the flood of
	// the throttling test were the slowest of every run, which would flatter the attack.
	for _, name := range []string{"warm-up", "before", "during", "after"} {
		length := s.d.GoodFor
		if name == "warm-up" {
			length /= 2
		}
		pctx, cancel := context.WithTimeout(ctx, length)
		var wg sync.WaitGroup
		if name == "during" {
			wg.Add(1)
			go func() { defer wg.Done(); s.attack(pctx, bad, res, &mu) }()
		}
		p := s.goodPhase(pctx, good, name)
		wg.Wait()
		cancel()
		res.Phases = append(res.Phases, p)
		res.GoodAcked += p.OK
		if ctx.Err() != nil {
			return ctx.Err()
		}
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

// goodPhase sends signed SMS and WeChat messages, each a new citizen's, at GoodRate until ctx
// ends (open loop: the rate does not drop when answers slow down, so latency shows it).
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
		sub := l.sms(n, texts[int(n)%len(texts)])
		if n%2 == 0 {
			sub = l.wechat(n, texts[int(n)%len(texts)])
		}
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
	url    string
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
		out = append(out, prepared{url: req.URL.String(), header: req.Header, body: body})
		ids = append(ids, sub.externalID)
	}
	return out, ids, nil
}

// attack sends the prepared requests evenly over the phase, from another client address than
// the good traffic's (127.0.0.66), as an attacker elsewhere on the network would.
func (s *suite) attack(ctx context.Context, reqs []prepared, res *abuseResult, mu *sync.Mutex) {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 66)}, Timeout: 5 * time.Second}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: dialer.DialContext, MaxIdleConnsPerHost: 64}}
	every := time.Duration(float64(s.d.GoodFor) / float64(len(reqs)) * 0.9) // finish a little before the phase ends
	tick := time.NewTicker(every)
	defer tick.Stop()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for _, p := range reqs {
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			key := "error"
			req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), "POST", p.url, bytes.NewReader(p.body))
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
			res.BadSent++
			res.BadStatuses[key]++
			mu.Unlock()
		}()
	}
	wg.Wait()
}

func printAbuse(w *os.File, r abuseResult, d durations) {
	fmt.Fprintln(w, "\nAbuse")
	if r.Err != nil {
		fmt.Fprintf(w, "  ERROR: %v\n", r.Err)
	}
	fmt.Fprintf(w, "one sender at 100/s for %s: %d sent, %d accepted, %d refused 429; 20 other senders: %d of %d served\n",
		d.ThrottleFor, r.FloodSent, r.FloodOK, r.Flood429, r.OthersOK, r.OthersSent)
	fmt.Fprintf(w, "bad signatures: %d sent (%s); cases with their message ids: %d; cases created during the test: %d, good messages acknowledged: %d\n",
		r.BadSent, statusLine(r.BadStatuses), r.BadCreated, r.CaseDelta, r.GoodAcked)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "good traffic\tsent\tacknowledged\tper second\tp50\tp99\t")
	for _, p := range r.Phases {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%s\t%s\t\n", p.Name, p.Sent, p.OK, p.PerSecond, p.P50.Round(10*time.Microsecond), p.P99.Round(10*time.Microsecond))
	}
	tw.Flush()
	tp, p50 := r.ratios()
	bound := "not enforced in the short run (a few seconds on a shared machine are too noisy)"
	if d.StrictTimings {
		bound = "must be ≥ 0.90 and ≤ 1.10"
	}
	fmt.Fprintf(w, "during the attack / mean of before and after: throughput %.3f, p50 latency %.3f (%s)\n", tp, p50, bound)
	for _, p := range r.problems(d) {
		fmt.Fprintf(w, "  FAILED: %s\n", p)
	}
}
