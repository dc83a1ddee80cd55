package pgtest

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Proxy sits between a test's gateway and PostgreSQL and can cut a connection in the middle of
// a statement, the way a dropped network link or a crashing database does: the client has sent
// its statement and receives part of a reply, then the connection ends.
//
// It understands just enough of the wire protocol (startup, then typed messages) to know which
// SQL a connection is executing, whether sent as a simple query or as a prepared statement
// bound by name, and to cut the reply at a message boundary followed by a partial header, so
// the client reads an unexpected EOF rather than garbage.
type Proxy struct {
	t      testing.TB
	ln     net.Listener
	target string
	// URL is the database URL with the proxy's address in place of the server's.
	URL string

	mu     sync.Mutex
	marker string        // armed: cut the next statement whose SQL contains it
	cut    chan struct{} // closed when the armed cut happened
	conns  map[*proxyConn]struct{}
}

// NewProxy starts a proxy in front of the server of dbURL; it stops when t ends.
func NewProxy(t testing.TB, dbURL string) *Proxy {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("proxy: parse %q: %v", dbURL, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, ln: ln, target: u.Host, conns: map[*proxyConn]struct{}{}}
	u.Host = ln.Addr().String()
	p.URL = u.String()
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// CutOn arms the proxy: the next statement, on any connection, whose SQL contains marker is
// not passed to the server; its client instead receives the first bytes of a reply message and
// then the end of the connection. The returned channel is closed once that has happened.
func (p *Proxy) CutOn(marker string) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.marker, p.cut = marker, make(chan struct{})
	return p.cut
}

// shouldCut reports (once) whether sql matches the armed marker.
func (p *Proxy) shouldCut(sql string) (bool, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.marker == "" || !strings.Contains(sql, p.marker) {
		return false, nil
	}
	p.marker = ""
	return true, p.cut
}

func (p *Proxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		c := &proxyConn{p: p, client: client, server: server, stmts: map[string]string{}}
		p.mu.Lock()
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		go c.fromServer()
		go c.fromClient()
	}
}

func (p *Proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.closeBoth()
	}
}

type proxyConn struct {
	p              *Proxy
	client, server net.Conn
	stmts          map[string]string // prepared statement name → SQL (client goroutine only)

	wmu    sync.Mutex // serialises writes to the client
	closed bool
}

func (c *proxyConn) closeBoth() {
	c.client.Close()
	c.server.Close()
}

// fromServer passes the server's messages to the client whole, so that a cut always falls
// between two messages.
func (c *proxyConn) fromServer() {
	defer c.closeBoth()
	for {
		msg, err := readTyped(c.server)
		if err != nil {
			return
		}
		c.wmu.Lock()
		if c.closed {
			c.wmu.Unlock()
			return
		}
		_, err = c.client.Write(msg)
		c.wmu.Unlock()
		if err != nil {
			return
		}
	}
}

func (c *proxyConn) fromClient() {
	defer c.closeBoth()
	// Untyped messages first: SSL or GSS encryption requests (answered by the server with one
	// byte, which fromServer cannot frame, so they are refused here) and the startup message.
	for {
		msg, err := readUntyped(c.client)
		if err != nil {
			return
		}
		code := binary.BigEndian.Uint32(msg[4:8])
		if code == 80877103 || code == 80877104 { // SSLRequest, GSSENCRequest
			if _, err := c.client.Write([]byte{'N'}); err != nil {
				return
			}
			continue
		}
		if _, err := c.server.Write(msg); err != nil {
			return
		}
		if code == 80877102 { // CancelRequest: nothing follows
			return
		}
		break
	}
	for {
		msg, err := readTyped(c.client)
		if err != nil {
			return
		}
		if sql, ok := c.statement(msg); ok {
			if cut, done := c.p.shouldCut(sql); cut {
				// Announced before the cut, so that whoever sees the cut's effect also sees the
				// announcement.
				close(done)
				c.cutMidReply()
				// Read on until the client hangs up: closing a socket with unread data would
				// reset the connection instead of ending it.
				_, _ = io.Copy(io.Discard, c.client)
				return
			}
		}
		if _, err := c.server.Write(msg); err != nil {
			return
		}
	}
}

// statement returns the SQL a message runs: a simple query's text, or the text of the prepared
// statement a Bind names. A Parse is remembered for later Binds.
func (c *proxyConn) statement(msg []byte) (string, bool) {
	body := msg[5:]
	switch msg[0] {
	case 'Q':
		return cstring(body), true
	case 'P':
		name := cstring(body)
		c.stmts[name] = cstring(body[len(name)+1:])
	case 'B':
		portal := cstring(body)
		sql, ok := c.stmts[cstring(body[len(portal)+1:])]
		return sql, ok
	}
	return "", false
}

// cutMidReply sends the client the first three bytes of a RowDescription header, then the end
// of the stream (so the client reads an unexpected EOF), and drops the server connection.
func (c *proxyConn) cutMidReply() {
	c.wmu.Lock()
	c.closed = true
	_, _ = c.client.Write([]byte{'T', 0, 0})
	if tcp, ok := c.client.(*net.TCPConn); ok {
		_ = tcp.CloseWrite()
	}
	c.wmu.Unlock()
	c.server.Close()
}

func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i])
	}
	return string(b)
}

// readTyped reads one message: a type byte, a length counting itself, the body.
func readTyped(r io.Reader) ([]byte, error) {
	head := make([]byte, 5)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(head[1:]))
	if n < 4 || n > 1<<30 {
		return nil, errors.New("proxy: bad message length")
	}
	msg := make([]byte, 1+n)
	copy(msg, head)
	_, err := io.ReadFull(r, msg[5:])
	return msg, err
}

// readUntyped reads a startup-phase message: a length counting itself, the body.
func readUntyped(r io.Reader) ([]byte, error) {
	head := make([]byte, 4)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint32(head))
	if n < 8 || n > 1<<20 {
		return nil, errors.New("proxy: bad startup length")
	}
	msg := make([]byte, n)
	copy(msg, head)
	_, err := io.ReadFull(r, msg[4:])
	return msg, err
}
