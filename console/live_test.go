package console_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/console"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

var liveOpts = console.Options{LiveInterval: 50 * time.Millisecond, LiveStreams: 3, LiveStreamsPerSession: 2}

// stream is an open /console/live response, read event by event.
type stream struct {
	t      *testing.T
	resp   *http.Response
	cancel context.CancelFunc
	events chan string // the data of each "today" event; closed at the end of the stream
}

func (b *browser) live() (*stream, response) {
	b.e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.e.srv.URL+"/console/live", nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		defer cancel()
		defer resp.Body.Close()
		buf := new(strings.Builder)
		_, _ = bufio.NewReader(resp.Body).WriteTo(buf)
		return nil, response{status: resp.StatusCode, body: buf.String(), url: resp.Request.URL.Path, header: resp.Header}
	}
	s := &stream{t: b.e.t, resp: resp, cancel: cancel, events: make(chan string, 16)}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "today":
				s.events <- strings.TrimPrefix(line, "data: ")
			case line == "":
				event = ""
			}
		}
	}()
	b.e.t.Cleanup(s.close)
	return s, response{status: resp.StatusCode}
}

func (s *stream) close() {
	s.cancel()
	_ = s.resp.Body.Close()
}

// next waits for the next count; "" when the stream ended.
func (s *stream) next(within time.Duration) string {
	s.t.Helper()
	select {
	case v, ok := <-s.events:
		if !ok {
			return ""
		}
		return v
	case <-time.After(within):
		s.t.Fatalf("no event within %v", within)
		return ""
	}
}

// addCase stores a WeChat case received now.
func (e *env) addCase(ext string) {
	e.t.Helper()
	nc := storetest.NewCase("wechat-main", ext, time.Now())
	nc.Case.Channel = intake.ChannelWeChat
	nc.Case.Content.Text = "小区门口的路灯不亮了"
	if _, err := e.store.CreateCase(context.Background(), nc); err != nil {
		e.t.Fatal(err)
	}
}

// A viewer's live stream starts with today's count and sends the new count once a case is
// stored, by whatever replica: the count is read from the store.
func TestLiveCountFollowsNewCases(t *testing.T) {
	bothStores(t, liveOpts, func(t *testing.T, e *env) {
		b := e.browser()
		b.mustLogin("vic")
		s, r := b.live()
		if s == nil {
			t.Fatalf("live stream: %d %s", r.status, r.body)
		}
		if cc := s.resp.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		var first int
		if _, err := fmt.Sscan(s.next(5*time.Second), &first); err != nil {
			t.Fatal(err)
		}
		e.addCase("live-1")
		if got, want := s.next(5*time.Second), fmt.Sprint(first+1); got != want {
			t.Fatalf("after a new case: %q, want %s", got, want)
		}
		// Two more: the poller may read between them, so the stream may show first+2 on the way.
		e.addCase("live-2")
		e.addCase("live-3")
		got := s.next(5 * time.Second)
		if got == fmt.Sprint(first+2) {
			got = s.next(5 * time.Second)
		}
		if want := fmt.Sprint(first + 3); got != want {
			t.Fatalf("after two more: %q, want %s", got, want)
		}
	})
}

// Streams are bounded per session and per replica; a stream the browser closed frees its slot;
// logout and shutdown end the streams.
func TestLiveStreamsAreBoundedAndEnd(t *testing.T) {
	e := newEnv(t, openSQLite(t), liveOpts)
	anon := e.browser()
	if r := anon.get("/console/live"); r.url != "/console/login" {
		t.Fatalf("signed out: landed on %s (%d)", r.url, r.status)
	}
	vic, olga := e.browser(), e.browser()
	vic.mustLogin("vic")
	olgaCSRF := olga.mustLogin("olga")
	v1, _ := vic.live()
	v2, _ := vic.live()
	if v1 == nil || v2 == nil {
		t.Fatal("two streams of one session refused")
	}
	if s, r := vic.live(); s != nil || r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "实时页面过多") {
		t.Fatalf("a third stream of one session: %d", r.status)
	}
	o1, _ := olga.live()
	if o1 == nil {
		t.Fatal("another session's stream refused")
	}
	if s, r := olga.live(); s != nil || r.status != http.StatusTooManyRequests {
		t.Fatalf("a stream past the replica's limit: %d", r.status)
	}
	// The browser goes away: its slot is free again once the server notices.
	v2.close()
	deadline := time.Now().Add(5 * time.Second)
	var o2 *stream
	for o2 == nil && time.Now().Before(deadline) {
		if o2, _ = olga.live(); o2 == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
	if o2 == nil {
		t.Fatal("a closed stream's slot was not freed")
	}
	v1.next(5 * time.Second)
	o1.next(5 * time.Second)
	o2.next(5 * time.Second)
	// Logout ends the session's streams at once.
	if r := olga.post("/console/logout", map[string][]string{"csrf": {olgaCSRF}}); r.url != "/console/login" {
		t.Fatalf("logout: %d at %s", r.status, r.url)
	}
	for _, s := range []*stream{o1, o2} {
		if v := drain(s); v != "" {
			t.Fatalf("a signed-out session's stream still sends %q", v)
		}
	}
	// Shutdown ends the rest and refuses new ones.
	e.con.Close()
	if v := drain(v1); v != "" {
		t.Fatalf("a stream after Close still sends %q", v)
	}
	if s, r := vic.live(); s != nil || r.status != http.StatusServiceUnavailable {
		t.Fatalf("a stream after Close: %d", r.status)
	}
}

// drain reads a stream to its end (failing after 5 s); it returns the last count seen after
// the stream was asked to end, "" when none was.
func drain(s *stream) string {
	s.t.Helper()
	timeout := time.After(5 * time.Second)
	last := ""
	for {
		select {
		case v, ok := <-s.events:
			if !ok {
				return last
			}
			last = v
		case <-timeout:
			s.t.Fatal("the stream did not end")
			return ""
		}
	}
}
