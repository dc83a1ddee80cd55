package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/config"
)

// server.max_connections caps the connections served at once: with the cap reached, a further
// client is not served until a connection frees up (internal/connlimit tests the details; this
// checks that serve wires it).
func TestConnectionCap(t *testing.T) {
	cfg := config.Server{Listen: "127.0.0.1:0", MaxConnections: 2, WebhookReadTimeout: time.Second,
		BodyReadTimeout: time.Second, BatchReadTimeout: time.Second}
	ln, err := listen(cfg)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	srv := newHTTPServer(cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-release
		}
		w.WriteHeader(http.StatusNoContent)
	}), ln)
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	// Separate transports: each request needs a connection of its own.
	get := func(path string) <-chan error {
		done := make(chan error, 1)
		go func() {
			c := &http.Client{Transport: &http.Transport{}, Timeout: 20 * time.Second}
			res, err := c.Get(base + path)
			if err == nil {
				res.Body.Close()
			}
			done <- err
		}()
		return done
	}
	held := []<-chan error{get("/hold"), get("/hold")}
	time.Sleep(200 * time.Millisecond) // both holders are being served
	third := get("/quick")
	select {
	case err := <-third:
		t.Fatalf("a third connection was served past the cap of 2 (err %v)", err)
	case <-time.After(500 * time.Millisecond):
	}
	close(release)
	for _, h := range held {
		if err := <-h; err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-third:
		if err != nil {
			t.Fatalf("third request after a connection freed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("third request never served after the holders finished")
	}
}
