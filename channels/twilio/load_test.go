package twilio_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLoadSMSWebhook is the latency check: inbound SMS at a constant rate (open loop:
// requests leave on schedule whatever the answers do) over real TCP, through the adapter, the
// real intake service and the embedded SQLite store; every request is a new message. Opt-in:
//
//	INTAKE_LOADTEST=1 go test ./channels/twilio/ -run TestLoadSMSWebhook -v
//
// INTAKE_LOADTEST_RATE (default 500/s), INTAKE_LOADTEST_DURATION (10s), INTAKE_LOADTEST_P99
// (20ms, the target) and INTAKE_LOADTEST_FAKE=1 (a receiver without store: the adapter's own
// share) tune it.
func TestLoadSMSWebhook(t *testing.T) {
	if os.Getenv("INTAKE_LOADTEST") == "" {
		t.Skip("set INTAKE_LOADTEST=1 to run the load test")
	}
	rate := envInt(t, "INTAKE_LOADTEST_RATE", 500)
	dur := envDuration(t, "INTAKE_LOADTEST_DURATION", 10*time.Second)
	target := envDuration(t, "INTAKE_LOADTEST_P99", 20*time.Millisecond)

	s := setup{other: benchReceiver{}}
	if os.Getenv("INTAKE_LOADTEST_FAKE") == "" {
		_, rcv := openCore(t)
		s.other = rcv
	}
	e, _ := newServer(t, s)
	srv := httptest.NewServer(e)
	defer srv.Close()

	n := int(float64(rate) * dur.Seconds())
	bodies, sigs := make([]string, n), make([]string, n)
	for i := range n {
		p, _ := url.ParseQuery(bodyPlain)
		p.Set("MessageSid", fmt.Sprintf("SM%032x", i))
		p.Set("SmsSid", p.Get("MessageSid"))
		p.Set("SmsMessageSid", p.Get("MessageSid"))
		bodies[i] = p.Encode()
		sigs[i] = sign(testToken, publicBase+smsPath, p)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024}, Timeout: 15 * time.Second}
	lat := make([]time.Duration, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := range n {
		time.Sleep(time.Until(start.Add(time.Duration(i) * interval)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+smsPath, strings.NewReader(bodies[i]))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", sigs[i])
			t0 := time.Now()
			res, err := client.Do(req)
			if err != nil {
				codes[i] = -1
				lat[i] = time.Since(t0)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			_ = res.Body.Close()
			lat[i], codes[i] = time.Since(t0), res.StatusCode
		}()
	}
	wg.Wait()
	failed := 0
	for _, c := range codes {
		if c != http.StatusOK {
			failed++
		}
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[int(p*float64(n-1))].Round(10 * time.Microsecond) }
	t.Logf("%d req/s for %s: %d requests, %d not 200; p50 %s p90 %s p99 %s max %s",
		rate, dur, n, failed, q(.5), q(.9), q(.99), q(1))
	if failed > 0 {
		t.Errorf("%d requests failed", failed)
	}
	if p99 := q(.99); p99 > target {
		t.Errorf("p99 %s above %s", p99, target)
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q", name, v)
	}
	return n
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q", name, v)
	}
	return d
}
