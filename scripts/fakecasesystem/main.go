// Command fakecasesystem stands in for a hotline's case system: `make run` starts it where the
// example config forwards cases, so that a first case is delivered instead of failing,
// `scripts/bench-forward.sh` drains backlogs into it and `make chaos` (scripts/chaos) fails,
// hangs and slows it on purpose.
//
// It answers every delivery 201 with a case_ref, or otherwise as its mode says:
//
//	normal   201 at once
//	fail     503 at once (the case system is down)
//	hang     no answer: the request is held until the gateway gives up or the mode changes
//	slow     201 after a random pause of up to -delay (deliveries stay in flight a while)
//
// POST /admin/mode?m=MODE switches the mode (POST /admin/down and /admin/up are fail and
// normal); GET /admin/count tells how many deliveries it accepted and GET /admin/received lists
// them as JSON lines (Idempotency-Key, event, delivery id and the case's id, case_no, channel_id
// and external_id), so that a test can reconcile what the gateway acknowledged with what arrived.
//
// With -secret it checks X-Intake-Signature as a real receiver would, refuses a bad one with
// 401, and prints one line per delivery (event, delivery id, signature verdict) — never the
// case's content, which holds personal data.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// signatureTolerance is how far a delivery's signed time may be from this clock.
const signatureTolerance = 5 * time.Minute

// Modes of the fake case system.
const (
	modeNormal = "normal"
	modeFail   = "fail"
	modeHang   = "hang"
	modeSlow   = "slow"
)

// Received is one delivery the case system accepted (recorded, then answered 201).
type Received struct {
	Key        string `json:"key"` // Idempotency-Key
	Event      string `json:"event"`
	Delivery   string `json:"delivery"`
	ID         string `json:"id"`
	CaseNo     string `json:"case_no"`
	ChannelID  string `json:"channel_id"`
	ExternalID string `json:"external_id"`
}

// caseSystem is the fake's state. A mode change closes changed, which releases held requests.
type caseSystem struct {
	secret string
	delay  time.Duration
	logAll bool

	mu       sync.Mutex
	mode     string
	changed  chan struct{}
	received []Received
}

func newCaseSystem(mode, secret string, delay time.Duration, logAll bool) *caseSystem {
	return &caseSystem{secret: secret, delay: delay, logAll: logAll, mode: mode, changed: make(chan struct{})}
}

func (cs *caseSystem) setMode(m string) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if m == cs.mode {
		return
	}
	cs.mode = m
	close(cs.changed)
	cs.changed = make(chan struct{})
}

func (cs *caseSystem) current() (string, <-chan struct{}) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.mode, cs.changed
}

func (cs *caseSystem) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cases", cs.deliver)
	mux.HandleFunc("POST /admin/down", func(w http.ResponseWriter, r *http.Request) { cs.setMode(modeFail) })
	mux.HandleFunc("POST /admin/up", func(w http.ResponseWriter, r *http.Request) { cs.setMode(modeNormal) })
	mux.HandleFunc("POST /admin/mode", func(w http.ResponseWriter, r *http.Request) {
		switch m := r.URL.Query().Get("m"); m {
		case modeNormal, modeFail, modeHang, modeSlow:
			cs.setMode(m)
		default:
			http.Error(w, "mode must be normal, fail, hang or slow", http.StatusBadRequest)
		}
	})
	mux.HandleFunc("GET /admin/count", func(w http.ResponseWriter, r *http.Request) {
		cs.mu.Lock()
		n := len(cs.received)
		cs.mu.Unlock()
		fmt.Fprintln(w, n)
	})
	mux.HandleFunc("GET /admin/received", func(w http.ResponseWriter, r *http.Request) {
		cs.mu.Lock()
		list := append([]Received(nil), cs.received...)
		cs.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-ndjson")
		enc := json.NewEncoder(w)
		for _, rec := range list {
			if err := enc.Encode(rec); err != nil {
				return
			}
		}
	})
	return mux
}

func (cs *caseSystem) deliver(w http.ResponseWriter, r *http.Request) {
	// The body is read first: only then does net/http notice a client that hangs up, which a
	// held request must see to end.
	body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	mode, changed := cs.current()
	for mode == modeHang {
		select {
		case <-changed:
			mode, changed = cs.current()
		case <-r.Context().Done():
			return // the gateway gave up: nothing was accepted
		}
	}
	if mode == modeFail {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if cs.secret != "" {
		verdict := verify(cs.secret, r.Header.Get("X-Intake-Signature"), body, time.Now())
		if cs.logAll {
			log.Printf("delivery %s event=%s signature=%s", r.Header.Get("X-Intake-Delivery"), r.Header.Get("X-Intake-Event"), verdict)
		}
		if verdict != "ok" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	if mode == modeSlow && cs.delay > 0 {
		select {
		case <-time.After(rand.N(cs.delay)):
		case <-r.Context().Done():
			return // the gateway hung up (it was stopped): nothing was accepted
		}
	}
	var c struct {
		ID         string `json:"id"`
		CaseNo     string `json:"case_no"`
		ChannelID  string `json:"channel_id"`
		ExternalID string `json:"external_id"`
	}
	// A body that is not a case record is still accepted, as a lenient receiver would; the list
	// then shows it with empty case fields, which a reconciliation notices.
	_ = json.Unmarshal(body, &c)
	// Recorded before the answer, as a real case system commits before it answers: a gateway
	// that dies before reading the 201 sends the case again, which shows as a repeat delivery
	// under the same Idempotency-Key.
	cs.mu.Lock()
	cs.received = append(cs.received, Received{Key: r.Header.Get("Idempotency-Key"), Event: r.Header.Get("X-Intake-Event"),
		Delivery: r.Header.Get("X-Intake-Delivery"), ID: c.ID, CaseNo: c.CaseNo, ChannelID: c.ChannelID, ExternalID: c.ExternalID})
	n := len(cs.received)
	cs.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"case_ref":"CS-%d"}`, n)
}

func main() {
	addr := flag.String("listen", "127.0.0.1:19090", "listen address")
	down := flag.Bool("down", false, "start down (mode fail)")
	mode := flag.String("mode", modeNormal, "starting mode: normal, fail, hang or slow")
	delay := flag.Duration("delay", 3*time.Second, "slow mode: longest pause before an answer")
	quiet := flag.Bool("quiet", false, "do not print a line per delivery")
	secret := flag.String("secret", "", "verify X-Intake-Signature with this secret and print each delivery")
	flag.Parse()
	start := *mode
	if *down {
		start = modeFail
	}
	switch start {
	case modeNormal, modeFail, modeHang, modeSlow:
	default:
		log.Fatalf("unknown -mode %q", start)
	}
	cs := newCaseSystem(start, *secret, *delay, !*quiet)
	srv := &http.Server{Addr: *addr, Handler: cs.handler(), ReadHeaderTimeout: 5 * time.Second}
	log.Printf("fake case system listening on %s (mode %s)", *addr, start)
	log.Fatal(srv.ListenAndServe())
}

// verify checks header "t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>", written here from
// the README's description rather than borrowed from the gateway, so that it checks the gateway.
func verify(secret, header string, body []byte, now time.Time) string {
	var stamp, sig string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			stamp = v
		case "v1":
			sig = v
		}
	}
	secs, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil || sig == "" {
		return "missing"
	}
	if d := now.Sub(time.Unix(secs, 0)); d > signatureTolerance || d < -signatureTolerance {
		return "stale"
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(stamp + "." + string(body)))
	got, err := hex.DecodeString(sig)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return "bad"
	}
	return "ok"
}
