// Command fakecasesystem stands in for a hotline's case system in `scripts/bench-forward.sh`: it
// answers every delivery 201 with a case_ref, or 503 while it is "down". POST /admin/down and
// /admin/up switch it; GET /admin/count tells how many deliveries it accepted.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:19090", "listen address")
	down := flag.Bool("down", false, "start down")
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
		n := accepted.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"case_ref":"CS-%d"}`, n)
	})
	mux.HandleFunc("POST /admin/down", func(w http.ResponseWriter, r *http.Request) { isDown.Store(true) })
	mux.HandleFunc("POST /admin/up", func(w http.ResponseWriter, r *http.Request) { isDown.Store(false) })
	mux.HandleFunc("GET /admin/count", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, accepted.Load()) })
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
