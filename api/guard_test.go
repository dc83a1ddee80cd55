package api_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/api"
	"github.com/hotline12345/intake-gateway/internal/ratelimit"
)

func (e *env) doAt(base, method, path string) resp {
	e.t.Helper()
	req, _ := http.NewRequest(method, base+path, nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// rawRequest writes head (request line and headers, without the blank line) and then only the
// first part of a body whose Content-Length says more is coming, and returns the connection.
func rawRequest(t *testing.T, url, head, partialBody string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, strings.ReplaceAll(head, "\n", "\r\n")+"\r\n\r\n"+partialBody); err != nil {
		t.Fatal(err)
	}
	return conn
}

// readResponse waits up to limit for the server's answer on conn.
func readResponse(t *testing.T, conn net.Conn, req string, limit time.Duration) (*http.Response, error) {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(limit))
	r, _ := http.NewRequest("POST", "http://x"+req, nil)
	return http.ReadResponse(bufio.NewReader(conn), r)
}

// A request refused on its headers (here: no API key) is answered at once and its connection
// closed, even though the client is still "sending" its body. Before, Go's server first tried to
// read the rest of the body, so the refusal waited for the server's whole read timeout.
func TestRefusalOnHeadersAnswersWithoutWaitingForTheBody(t *testing.T) {
	e := newEnv(t)
	conn := rawRequest(t, e.url, "POST /v1/submissions HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: 100000", `{"text":"`)
	res, err := readResponse(t, conn, "/v1/submissions", 5*time.Second)
	if err != nil {
		t.Fatalf("no answer while the body trickles in: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || !res.Close {
		t.Fatalf("status %d, close %v; want 401 and the connection closed", res.StatusCode, res.Close)
	}
}

// A refused request whose small body has arrived whole keeps its connection: a flood of forged
// webhooks must not cost a new TCP connection (and an accept on the gateway) per request. The
// second request on the same connection is answered.
func TestRefusalOfACompleteSmallBodyKeepsTheConnection(t *testing.T) {
	e := newEnv(t)
	body := `{"text":"没有密钥的提交"}`
	head := fmt.Sprintf("POST /v1/submissions HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: %d", len(body))
	conn := rawRequest(t, e.url, head, body)
	br := bufio.NewReader(conn)
	for i := range 2 {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		req, _ := http.NewRequest("POST", "http://x/v1/submissions", nil)
		res, err := http.ReadResponse(br, req)
		if err != nil {
			t.Fatalf("request %d on the connection: no answer: %v", i+1, err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized || res.Close {
			t.Fatalf("request %d: status %d, close %v; want 401 and the connection kept", i+1, res.StatusCode, res.Close)
		}
		if i == 0 {
			if _, err := io.WriteString(conn, strings.ReplaceAll(head, "\n", "\r\n")+"\r\n\r\n"+body); err != nil {
				t.Fatalf("second request: %v", err)
			}
		}
	}
}

// A refused request whose small body is still arriving (Content-Length says more than was sent)
// is answered at once with the connection closed: the short drain gives up, and the answer does
// not wait for the route's read deadline (here a minute, far beyond the test's patience).
func TestRefusalOfASmallBodyStillArrivingClosesPromptly(t *testing.T) {
	e := newEnv(t, func(d *api.Deps) {
		d.ReadDeadlines = api.ReadDeadlines{Webhook: time.Minute, Body: time.Minute, Batch: time.Minute}
	})
	conn := rawRequest(t, e.url, "POST /v1/submissions HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: 2000", `{"text":"还在发送`)
	res, err := readResponse(t, conn, "/v1/submissions", 10*time.Second)
	if err != nil {
		t.Fatalf("no answer while the body is still arriving: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized || !res.Close {
		t.Fatalf("status %d, close %v; want 401 and the connection closed", res.StatusCode, res.Close)
	}
}

// A client that waits for "100 Continue" before sending its body is refused without being
// invited to send it: no interim 100 comes before the refusal.
func TestRefusalDoesNotInviteABodyThatWaitsFor100Continue(t *testing.T) {
	e := newEnv(t)
	conn := rawRequest(t, e.url, "POST /v1/submissions HTTP/1.1\nHost: x\nContent-Type: application/json\nExpect: 100-continue\nContent-Length: 200", "")
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	if !strings.HasPrefix(line, "HTTP/1.1 401") {
		t.Fatalf("first line %q, want the 401 at once (no 100 Continue)", line)
	}
}

// A client that stops sending its body halfway holds a handler only until the route's read
// deadline, not for the server's minute-long ReadTimeout.
func TestSlowBodyIsCutOffAtTheRouteDeadline(t *testing.T) {
	e := newEnv(t, func(d *api.Deps) {
		d.ReadDeadlines = api.ReadDeadlines{Webhook: 200 * time.Millisecond, Body: 300 * time.Millisecond, Batch: time.Minute}
	})
	head := "POST /v1/submissions HTTP/1.1\nHost: x\nAuthorization: Bearer " + submitKey + "\nContent-Type: application/json\nContent-Length: 1000"
	conn := rawRequest(t, e.url, head, `{"text":"只发了一半`)
	res, err := readResponse(t, conn, "/v1/submissions", 5*time.Second)
	if err != nil {
		t.Fatalf("the server still waits for the body: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400 (body unreadable)", res.StatusCode)
	}
	if n := e.countCases(); n != 0 {
		t.Fatalf("%d cases from a cut-off body", n)
	}
}

func TestAPIKeyRateLimit(t *testing.T) {
	e := newEnv(t, func(d *api.Deps) {
		d.Auth = api.NewAuthenticator(d.APIKeys).WithRateLimit(ratelimit.New(ratelimit.Limit{Rate: 0.01, Burst: 3}, 0, nil))
	})
	for i := range 3 {
		if r := e.submit(fmt.Sprintf(`{"text":"限流测试 %d"}`, i), nil); r.status != 201 {
			t.Fatalf("request %d within the burst: %d %s", i+1, r.status, r.body)
		}
	}
	r := e.submit(`{"text":"限流测试 超出"}`, nil)
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || r.header.Get("Content-Type") != api.ProblemContentType {
		t.Fatalf("past the burst: %d %v %s", r.status, r.header, r.body)
	}
	if n := e.countCases(); n != 3 {
		t.Fatalf("%d cases, want the 3 within the limit", n)
	}
	// Another key has its own bucket.
	if r := e.do("GET", "/v1/cases?limit=1", readKey, "", nil, nil); r.status != 200 {
		t.Fatalf("another key: %d", r.status)
	}
}

// An address that keeps failing authentication is refused with 429 before any key or signature
// is checked, on the REST API and on the webhooks alike; other addresses are served.
func TestRepeatedAuthFailuresAreThrottledPerAddress(t *testing.T) {
	e := newEnv(t, func(d *api.Deps) {
		d.AuthFailures = ratelimit.New(ratelimit.Limit{Rate: 0.01, Burst: 5}, 0, nil)
		d.TrustedProxies = []string{"127.0.0.1/32"}
	})
	from := func(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }
	for i := range 5 {
		if r := e.do("POST", "/v1/submissions", "guess-"+fmt.Sprint(i), "application/json", []byte(`{"text":"x"}`), from("203.0.113.7")); r.status != 401 {
			t.Fatalf("guess %d: %d", i, r.status)
		}
	}
	// Now even the right key is refused from that address …
	r := e.do("POST", "/v1/submissions", submitKey, "application/json", []byte(`{"text":"猜中了"}`), from("203.0.113.7"))
	if r.status != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" {
		t.Fatalf("after 5 failures: %d %v", r.status, r.header)
	}
	// … a webhook path answers in plain text, not problem+json …
	r = e.do("POST", "/hooks/wechat/main", "", "text/xml", []byte("<xml/>"), from("203.0.113.7"))
	if r.status != http.StatusTooManyRequests || strings.Contains(r.header.Get("Content-Type"), "json") {
		t.Fatalf("webhook from the throttled address: %d %s", r.status, r.header.Get("Content-Type"))
	}
	// … and another address is served.
	if r := e.do("POST", "/v1/submissions", submitKey, "application/json", []byte(`{"text":"另一个地址"}`), from("198.51.100.1")); r.status != 201 {
		t.Fatalf("another address: %d %s", r.status, r.body)
	}
	if n := e.countCases(); n != 1 {
		t.Fatalf("%d cases, want only the other address's", n)
	}
}

// Successful requests never use up the failure budget.
func TestAuthFailureLimitIgnoresSuccess(t *testing.T) {
	e := newEnv(t, func(d *api.Deps) {
		d.AuthFailures = ratelimit.New(ratelimit.Limit{Rate: 0.01, Burst: 2}, 0, nil)
	})
	for i := range 10 {
		if r := e.submit(fmt.Sprintf(`{"text":"正常提交 %d"}`, i), nil); r.status != 201 {
			t.Fatalf("submission %d: %d", i, r.status)
		}
	}
}

func TestReadyzFailsWhileDraining(t *testing.T) {
	var draining atomic.Bool
	e := newEnv(t, func(d *api.Deps) { d.Draining = draining.Load })
	if r := e.do("GET", "/readyz", "", "", nil, nil); r.status != 200 {
		t.Fatalf("before draining: %d", r.status)
	}
	draining.Store(true)
	r := e.do("GET", "/readyz", "", "", nil, nil)
	if r.status != http.StatusServiceUnavailable || !strings.Contains(string(r.body), "shutting down") {
		t.Fatalf("while draining: %d %s", r.status, r.body)
	}
	// Requests are still served while the balancer moves away.
	if r := e.submit(`{"text":"停机过程中的提交"}`, nil); r.status != 201 {
		t.Fatalf("submission while draining: %d", r.status)
	}
}
