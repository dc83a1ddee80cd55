// Package connlimit caps the connections an HTTP server holds open at once. Past the cap a new
// client waits in the kernel's accept queue, as with netutil.LimitListener — but first the cap
// makes room by closing a connection that sits idle between keep-alive requests, so that idle
// connections (a slow attacker's, or a client pool's) cannot keep active clients out.
package connlimit

import (
	"container/list"
	"net"
	"net/http"
	"sync"
)

// Listener accepts at most Max connections at a time. Install ConnState on the http.Server
// that serves it, so that it knows which connections are idle.
type Listener struct {
	net.Listener
	slots chan struct{}

	mu sync.Mutex
	// idle holds the connections between requests in the order they went idle, oldest first,
	// so the longest-idle one goes first; byConn finds a connection's place in it.
	idle   *list.List
	byConn map[net.Conn]*list.Element
	// wentIdle wakes an Accept waiting for a slot when a connection goes idle.
	wentIdle chan struct{}
}

// New wraps ln so that at most max connections are open at once.
func New(ln net.Listener, max int) *Listener {
	return &Listener{Listener: ln, slots: make(chan struct{}, max), idle: list.New(), byConn: map[net.Conn]*list.Element{},
		wentIdle: make(chan struct{}, 1)}
}

// Accept waits for a free slot — closing the longest-idle connection when none is free — and
// then for a connection.
func (l *Listener) Accept() (net.Conn, error) {
	for acquired := false; !acquired; {
		select {
		case l.slots <- struct{}{}:
			acquired = true
			continue
		default:
		}
		l.closeOneIdle()
		select {
		case l.slots <- struct{}{}:
			acquired = true
		case <-l.wentIdle:
			// A connection finished its request: close it for the waiting client.
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &conn{Conn: c, release: func() { <-l.slots }}, nil
}

// ConnState is the http.Server hook that tells the listener which connections are idle.
func (l *Listener) ConnState(c net.Conn, state http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.byConn[c]; ok {
		l.idle.Remove(e)
		delete(l.byConn, c)
	}
	if state == http.StateIdle {
		l.byConn[c] = l.idle.PushBack(c)
		select {
		case l.wentIdle <- struct{}{}:
		default:
		}
	}
}

// Open is the number of connections holding a slot.
func (l *Listener) Open() int { return len(l.slots) }

func (l *Listener) closeOneIdle() {
	l.mu.Lock()
	var victim net.Conn
	if e := l.idle.Front(); e != nil {
		victim = l.idle.Remove(e).(net.Conn)
		delete(l.byConn, victim)
	}
	l.mu.Unlock()
	if victim != nil {
		// A keep-alive connection between requests: its client reconnects when it next needs one.
		_ = victim.Close()
	}
}

// conn gives its slot back once, when closed.
type conn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
