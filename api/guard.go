package api

import (
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hotline12345/intake-gateway/internal/ratelimit"
)

// These middlewares bound what a client can make the server spend before anything is known
// about it: time reading a body, a connection held after a refusal, and guesses at credentials.

// ReadDeadlines bounds the time to read one request's body after its headers, by route: platform
// webhooks carry a few kilobytes and the platforms give up after 5 s; REST bodies up to
// limits.max_body_bytes; NDJSON batches up to limits.max_batch_bytes. A client that trickles its
// body is cut off at the deadline instead of holding a handler for the server's ReadTimeout.
type ReadDeadlines struct {
	Webhook, Body, Batch time.Duration
}

func (d ReadDeadlines) forPath(path string) time.Duration {
	switch {
	case strings.HasPrefix(path, "/hooks/"):
		return d.Webhook
	case strings.HasSuffix(path, ":batch"):
		return d.Batch
	default:
		return d.Body
	}
}

// readDeadline sets the connection's read deadline for the request's route.
func readDeadline(d ReadDeadlines) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if limit := d.forPath(c.Request().URL.Path); limit > 0 {
				// Not every ResponseWriter supports deadlines (httptest's recorder does not);
				// there the server's own ReadTimeout is the only bound.
				_ = http.NewResponseController(c.Response().Writer).SetReadDeadline(time.Now().Add(limit))
			}
			return next(c)
		}
	}
}

// closeAfterEarlyRefusal answers a refused request at once. Go's server, before it writes the
// response to a request whose body was not read, first reads up to 256 KB of that body to keep
// the connection reusable: a request refused on its headers (no key, bad signature, too large)
// while its client sends the body slowly would wait for the whole read deadline. Closing the
// connection instead skips that read.
//
// Most refused requests, though, are small and have arrived whole (a forged webhook is a few
// hundred bytes in one packet): closing those would make every refusal cost the client a new
// TCP connection and the gateway an accept, which is what a flood of bad signatures is made of.
// So a small body is first drained for a moment; only a body that is big or still arriving costs
// the connection.
func closeAfterEarlyRefusal() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0 {
				return next(c)
			}
			body := &eofWatcher{ReadCloser: req.Body}
			req.Body = body
			res := c.Response()
			res.Before(func() {
				if res.Status < http.StatusBadRequest || body.sawEOF.Load() {
					return
				}
				// A client that asked "Expect: 100-continue" has not sent its body: reading it
				// would only invite the body in. Go's server closes such a connection itself.
				if expectsContinue(req) || !drainArrived(res.Writer, body, req.ContentLength) {
					res.Header().Set(echo.HeaderConnection, "close")
				}
			})
			return next(c)
		}
	}
}

// Bounds of the drain before a refusal: a body up to drainMaxBytes whose rest can be read within
// drainWait is read and dropped so that the connection stays open. drainWait is long enough for
// bytes already in the socket buffer or in flight on a LAN, far too short for a client that
// trickles its body to hold the handler.
const (
	drainMaxBytes = 64 << 10
	drainWait     = 20 * time.Millisecond
)

func expectsContinue(req *http.Request) bool {
	return strings.EqualFold(req.Header.Get("Expect"), "100-continue")
}

// drainArrived reads the rest of a body of contentLength bytes (-1: unknown, chunked) if it is
// small and arrives within drainWait, and reports whether the body was read to its end.
func drainArrived(w http.ResponseWriter, body *eofWatcher, contentLength int64) bool {
	if contentLength < 0 || contentLength > drainMaxBytes {
		return false
	}
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(drainWait)); err != nil {
		// Without a deadline the read could wait for the whole body: close instead.
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(body, drainMaxBytes+1))
	if !body.sawEOF.Load() {
		// The deadline stays in the past: the connection closes after this answer, and Go's
		// own drain after the handler must not wait on it either.
		return false
	}
	// The request is complete; the server sets the next request's deadlines itself.
	_ = rc.SetReadDeadline(time.Time{})
	return true
}

// eofWatcher notes whether a body was read to its end.
type eofWatcher struct {
	io.ReadCloser
	sawEOF atomic.Bool
}

func (w *eofWatcher) Read(p []byte) (int, error) {
	n, err := w.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		w.sawEOF.Store(true)
	}
	return n, err
}

// authFailureLimit counts, per client address, the requests that fail authentication (401, or
// 403 from a webhook whose signature does not verify or an API key without the scope). While an
// address's bucket is empty its requests are refused with 429 before any key or signature is
// looked at, so credentials cannot be guessed at speed and a flood of forged webhooks costs little.
// The platforms' own servers never fail authentication and are never counted.
func authFailureLimit(failures *ratelimit.Keyed) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ip := c.RealIP()
			if spent, retry := failures.Exhausted(ip); spent {
				return tooManyRequests(c, retry, "Too many failed authentication attempts from this address.")
			}
			err := next(c)
			status := c.Response().Status
			if !c.Response().Committed && err != nil {
				status = toProblem(err).Status
			}
			if status == http.StatusUnauthorized || status == http.StatusForbidden {
				failures.Allow(ip)
			}
			return err
		}
	}
}

// tooManyRequests answers 429 with Retry-After: problem+json on the REST API, plain text on the
// platform webhooks (their callers log the status; none of them parses an error body).
func tooManyRequests(c echo.Context, retry time.Duration, detail string) error {
	secs := max(1, int(math.Ceil(retry.Seconds())))
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	if strings.HasPrefix(c.Request().URL.Path, "/hooks/") {
		return c.String(http.StatusTooManyRequests, "too many requests, retry later")
	}
	return writeProblem(c, problem(http.StatusTooManyRequests, "rate-limited", "Too many requests", detail))
}
