// Command fakecasesystem stands in for a hotline's case system: `make run` starts it where the
// example config forwards cases, so that a first case is delivered instead of failing, and
// `scripts/bench-forward.sh` drains backlogs into it. It answers every delivery 201 with a
// case_ref, or 503 while it is "down". POST /admin/down and /admin/up switch it; GET
// /admin/count tells how many deliveries it accepted.
//
// With -secret it checks X-Intake-Signature as a real receiver would, refuses a bad one with
// 401, and prints one line per delivery (event, delivery id, signature verdict) — never the
// case's content, which holds personal data.
package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// signatureTolerance is how far a delivery's signed time may be from this clock.
const signatureTolerance = 5 * time.Minute

func main() {
	addr := flag.String("listen", "127.0.0.1:19090", "listen address")
	down := flag.Bool("down", false, "start down")
	secret := flag.String("secret", "", "verify X-Intake-Signature with this secret and print each delivery")
	flag.Parse()
	var (
		isDown   atomic.Bool
		accepted atomic.Int64
	)
	isDown.Store(*down)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /cases", func(w http.ResponseWriter, r *http.Request) {
		if isDown.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		if *secret != "" {
			body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
			if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			verdict := verify(*secret, r.Header.Get("X-Intake-Signature"), body, time.Now())
			log.Printf("delivery %s event=%s signature=%s", r.Header.Get("X-Intake-Delivery"), r.Header.Get("X-Intake-Event"), verdict)
			if verdict != "ok" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		}
		n := accepted.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"case_ref":"CS-%d"}`, n)
	})
	mux.HandleFunc("POST /admin/down", func(w http.ResponseWriter, r *http.Request) { isDown.Store(true) })
	mux.HandleFunc("POST /admin/up", func(w http.ResponseWriter, r *http.Request) { isDown.Store(false) })
	mux.HandleFunc("GET /admin/count", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, accepted.Load()) })
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("fake case system listening on %s", *addr)
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
