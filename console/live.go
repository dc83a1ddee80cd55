package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/hotline12345/intake-gateway/store"
)

// The dashboard's live figure (today's new cases) reaches browsers as server-sent events.
//
// The count is polled from the store, not pushed by PostgreSQL's LISTEN/NOTIFY: a case stored
// by any replica is in the database, so a count read from it is right whatever replica the
// browser is connected to, on SQLite as on PostgreSQL, without a trigger on the intake's hot
// path or a connection held per replica for listening. One poller per replica asks, every
// LiveInterval and only while someone watches, one index range count — whatever the number of
// open dashboards.

// errLiveBusy is a stream refused by the limits on open streams.
var errLiveBusy = errors.New("too many live streams")

// errLiveClosed is a stream refused because the console is shutting down.
var errLiveClosed = errors.New("console closed")

// liveSub is one open stream: the poller leaves the latest count in next (a newer one replaces
// an unread older one), and stop is closed when the stream must end (logout, shutdown).
type liveSub struct {
	session string
	next    chan int
	stop    chan struct{}
}

// liveHub polls the count for the open streams of one console.
type liveHub struct {
	c          *Console
	mu         sync.Mutex
	subs       map[*liveSub]struct{}
	perSession map[string]int
	polling    bool
	closed     bool
	done       chan struct{}
}

func newLiveHub(c *Console) *liveHub {
	return &liveHub{c: c, subs: map[*liveSub]struct{}{}, perSession: map[string]int{}, done: make(chan struct{})}
}

// subscribe opens a stream for a session, within the limits, and starts the poller if it was
// idle.
func (h *liveHub) subscribe(session string) (*liveSub, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errLiveClosed
	}
	if len(h.subs) >= h.c.opts.LiveStreams || h.perSession[session] >= h.c.opts.LiveStreamsPerSession {
		return nil, errLiveBusy
	}
	s := &liveSub{session: session, next: make(chan int, 1), stop: make(chan struct{})}
	h.subs[s] = struct{}{}
	h.perSession[session]++
	if !h.polling {
		h.polling = true
		go h.poll()
	}
	return s, nil
}

func (h *liveHub) unsubscribe(s *liveSub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	if h.perSession[s.session]--; h.perSession[s.session] <= 0 {
		delete(h.perSession, s.session)
	}
}

// endSession ends the streams of a session (its operator signed out here).
func (h *liveHub) endSession(session string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		if s.session == session {
			delete(h.subs, s)
			close(s.stop)
		}
	}
	delete(h.perSession, session)
}

// close ends every stream and refuses new ones.
func (h *liveHub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	close(h.done)
	for s := range h.subs {
		close(s.stop)
	}
	clear(h.subs)
	clear(h.perSession)
}

// open counts the open streams (for tests of the limits and of disconnects).
func (h *liveHub) open() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// poll reads the count every LiveInterval while any stream is open and hands it to each.
func (h *liveHub) poll() {
	t := time.NewTicker(h.c.opts.LiveInterval)
	defer t.Stop()
	for {
		select {
		case <-h.done:
			return
		case <-t.C:
		}
		h.mu.Lock()
		if len(h.subs) == 0 {
			h.polling = false
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), h.c.opts.LiveInterval)
		n, err := h.c.todayCount(ctx)
		cancel()
		if err != nil {
			h.c.opts.Logger.Warn("console: live count", "error", err.Error())
			continue
		}
		h.mu.Lock()
		for s := range h.subs {
			select {
			case <-s.next: // an unread older count is replaced
			default:
			}
			s.next <- n
		}
		h.mu.Unlock()
	}
}

// todayCount counts the cases received since the start of the local day.
func (c *Console) todayCount(ctx context.Context) (int, error) {
	today := store.LocalDayStart(c.now().In(c.opts.Location), c.opts.Location)
	return c.store.CountReceived(ctx, today, today.AddDate(0, 0, 1))
}

// Close ends the console's live streams and refuses new ones; call it when the server starts to
// shut down (http.Server.RegisterOnShutdown), because Shutdown waits for open streams.
func (c *Console) Close() { c.live.close() }

// live streams today's count of new cases as server-sent events: the count at once, then each
// change. A stream ends after LiveMaxAge (the browser reconnects through the session check, so a
// session ended on another replica stops streaming within it), on logout, on shutdown and when
// the browser goes away.
func (c *Console) liveStream(w http.ResponseWriter, r *http.Request) {
	v := viewerFrom(r.Context())
	sub, err := c.live.subscribe(v.session.IDHash)
	switch {
	case errors.Is(err, errLiveBusy):
		w.Header().Set("Retry-After", "30")
		c.fail(w, r, v, http.StatusTooManyRequests, "打开的实时页面过多，请关闭部分页面后重试。")
		return
	case err != nil:
		c.fail(w, r, v, http.StatusServiceUnavailable, "服务正在停止，请稍后重试。")
		return
	}
	defer c.live.unsubscribe(sub)
	n, err := c.todayCount(r.Context())
	if err != nil {
		c.opts.Logger.Error("console: live count", "error", err.Error())
		c.fail(w, r, v, http.StatusServiceUnavailable, "暂时无法读取统计数据，请稍后重试。")
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	w.WriteHeader(http.StatusOK)
	// send writes one event within a write deadline of its own: a browser that stops reading
	// cannot hold the stream (and its slot) for longer than that.
	send := func(chunk string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second)) // not every writer supports it
		if _, err := fmt.Fprint(w, chunk); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	// retry: how long the browser waits before it reconnects after the stream ends.
	last := n
	if !send("retry: " + strconv.Itoa(int(c.opts.LiveInterval.Milliseconds())) + "\nevent: today\ndata: " + strconv.Itoa(n) + "\n\n") {
		return
	}
	maxAge := time.NewTimer(c.opts.LiveMaxAge)
	defer maxAge.Stop()
	// A comment now and then keeps proxies from closing an idle stream.
	ping := time.NewTicker(20 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-sub.stop:
			return
		case <-maxAge.C:
			return
		case <-ping.C:
			if !send(": ping\n\n") {
				return
			}
		case n := <-sub.next:
			if n == last {
				continue
			}
			last = n
			if !send("event: today\ndata: " + strconv.Itoa(n) + "\n\n") {
				return
			}
		}
	}
}
