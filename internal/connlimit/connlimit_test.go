package connlimit

import (
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

func serve(t *testing.T, max int, h http.HandlerFunc) (*Listener, string) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := New(inner, max)
	srv := &http.Server{Handler: h, ConnState: ln.ConnState, IdleTimeout: time.Minute}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln, "http://" + inner.Addr().String()
}

// get sends a request on a client of its own (so on a connection of its own) that keeps its
// connection alive afterwards.
func get(url string) <-chan error {
	done := make(chan error, 1)
	go func() {
		c := &http.Client{Transport: &http.Transport{}, Timeout: 20 * time.Second}
		res, err := c.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		done <- err
	}()
	return done
}

func TestActiveConnectionsAreCappedAndTheNextWaits(t *testing.T) {
	release := make(chan struct{})
	ln, base := serve(t, 2, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			<-release
		}
	})
	held := []<-chan error{get(base + "/hold"), get(base + "/hold")}
	deadline := time.Now().Add(5 * time.Second)
	for ln.Open() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	third := get(base + "/quick")
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
			t.Fatalf("third request: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting client was not served once the others were idle")
	}
	if ln.Open() > 2 {
		t.Fatalf("%d connections open, cap 2", ln.Open())
	}
}

// Connections idle between keep-alive requests do not keep a new client out: the longest-idle
// one is closed to make room.
func TestIdleKeepAliveConnectionsMakeRoom(t *testing.T) {
	ln, base := serve(t, 3, func(http.ResponseWriter, *http.Request) {})
	for range 3 {
		if err := <-get(base + "/"); err != nil {
			t.Fatal(err)
		}
	}
	if ln.Open() != 3 {
		t.Fatalf("%d connections kept alive, want 3", ln.Open())
	}
	select {
	case err := <-get(base + "/"):
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a new client waits behind idle keep-alive connections")
	}
}
