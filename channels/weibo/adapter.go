package weibo

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/hotline12345/intake-gateway/internal/app"

	"github.com/labstack/echo/v4"

	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/internal/logging"
)

// Adapter serves one configured Weibo account.
type Adapter struct {
	s *settings
	// Common is the receiver, logger, clock and request counters every adapter takes from Deps.
	channels.Common
}

var _ channels.Adapter = (*Adapter)(nil)

// New checks the channel's configuration and returns its adapter. Errors name the key as
// channels[<id>].<key>.
func New(cfg channels.Config, deps channels.Deps) (*Adapter, error) {
	s, err := parseSettings(cfg)
	if err != nil {
		return nil, err
	}
	base, err := deps.Common("weibo", "Weibo", cfg.ID)
	if err != nil {
		return nil, err
	}
	return &Adapter{s: s, Common: base}, nil
}

// Path is the webhook path of the channel: /hooks/weibo/<id>.
func (a *Adapter) Path() string { return "/hooks/weibo/" + a.s.id }

// Register adds GET (URL check) and POST (message push) on the channel's path. Only configured
// ids get routes, so an unknown id is echo's 404.
func (a *Adapter) Register(e *echo.Echo) {
	e.GET(a.Path(), a.handleGet)
	e.POST(a.Path(), a.handlePost)
}

// handleGet answers the URL check made when the server URL is saved in 开发模式.
func (a *Adapter) handleGet(c echo.Context) error {
	if _, rej := a.authenticate(c); rej != nil {
		return a.Refuse(c, rej)
	}
	echostr := c.QueryParam("echostr")
	if !validEchostr(echostr) {
		return a.Refuse(c, channels.Reject(http.StatusBadRequest, "bad_echostr", "missing or invalid echostr"))
	}
	return c.String(http.StatusOK, echostr)
}

// validEchostr bounds what is reflected back: short printable ASCII.
func validEchostr(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// handlePost authenticates and decodes a push, hands it to the Receiver and writes the passive
// reply. Every way out writes the answer itself: errors returned to echo would be rendered by the
// server's problem+json handler, which is not Weibo's format.
func (a *Adapter) handlePost(c echo.Context) error {
	expires, rej := a.authenticate(c)
	if rej != nil {
		return a.Refuse(c, rej)
	}
	req := c.Request()
	if req.ContentLength > MaxBodyBytes {
		return a.Refuse(c, channels.Reject(http.StatusRequestEntityTooLarge, "too_large", "request body too large"))
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, MaxBodyBytes+1))
	if err != nil {
		return a.Refuse(c, channels.Reject(http.StatusBadRequest, "read_error", "could not read request body"))
	}
	if len(body) > MaxBodyBytes {
		return a.Refuse(c, channels.Reject(http.StatusRequestEntityTooLarge, "too_large", "request body too large"))
	}
	p, err := ParsePush(body)
	if err != nil {
		return a.Refuse(c, channels.Reject(http.StatusBadRequest, "malformed_json", err.Error()))
	}
	ctype := req.Header.Get(echo.HeaderContentType)
	if ctype == "" {
		ctype = echo.MIMEApplicationJSON
	}
	in, rej := a.s.decode(p, body, ctype)
	if rej != nil {
		return a.Refuse(c, rej)
	}
	label := a.Metrics.TypeLabel(in.typeLabel)
	a.Metrics.Requests.WithLabelValues(label).Inc()
	if in.unknown {
		a.Metrics.Unknown.WithLabelValues(label).Inc()
		a.Logger.Debug("weibo push of unknown type acknowledged", "type", label)
		return c.NoContent(http.StatusOK)
	}
	if in.msg == nil && in.ev == nil {
		return c.NoContent(http.StatusOK)
	}

	ctx, cancel := context.WithTimeout(req.Context(), a.s.replyTimeout)
	defer cancel()
	// The signature covers timestamp and nonce only: the body is bound to it here.
	replayed, err := a.CheckReplay(ctx, a.s.id, c.QueryParam("signature"), c.QueryParam("nonce"), body, expires)
	if err != nil {
		return a.receiverFailed(c, err, label)
	}
	if replayed {
		return a.Refuse(c, channels.Reject(http.StatusForbidden, "replayed", "request signature already used with another body"))
	}
	var reply app.Reply
	if in.msg != nil {
		reply, err = a.Receiver.Receive(ctx, *in.msg)
	} else {
		reply, err = a.Receiver.Event(ctx, *in.ev)
	}
	sender := strconv.FormatInt(in.sender, 10)
	if err != nil {
		return a.receiverFailed(c, err, label)
	}
	a.Logger.Debug("weibo push handled", "type", label, "citizen", logging.PseudoID(sender), "outcome", string(reply.Outcome))
	if reply.Text == "" {
		// An empty body is Weibo's "received, nothing to say"; it stops the retries.
		return c.NoContent(http.StatusOK)
	}
	// The charset is redundant for JSON (RFC 8259) but spelled out for receivers that do not
	// assume UTF-8, so the Chinese reply cannot be read in another encoding.
	return c.Blob(http.StatusOK, "application/json; charset=UTF-8", passiveTextReply(a.s.accountUIDStr, sender, reply.Text))
}

// authenticate checks signature, timestamp and nonce, present on every GET and POST, and
// returns when the timestamp leaves the window.
func (a *Adapter) authenticate(c echo.Context) (time.Time, *channels.Rejection) {
	sig, ts, nonce := c.QueryParam("signature"), c.QueryParam("timestamp"), c.QueryParam("nonce")
	switch {
	case sig == "":
		return time.Time{}, channels.Reject(http.StatusForbidden, "missing_signature", "missing signature")
	case ts == "":
		return time.Time{}, channels.Reject(http.StatusBadRequest, "bad_timestamp", "missing timestamp")
	case nonce == "":
		return time.Time{}, channels.Reject(http.StatusBadRequest, "missing_nonce", "missing nonce")
	}
	ms, ok := parseMillis(ts)
	if !ok {
		return time.Time{}, channels.Reject(http.StatusBadRequest, "bad_timestamp", "invalid timestamp (want milliseconds since 1970)")
	}
	if !VerifySignature(sig, a.s.appSecret, ts, nonce) {
		return time.Time{}, channels.Reject(http.StatusForbidden, "bad_signature", "invalid signature")
	}
	// Checked after the signature so that unauthenticated callers learn nothing of our clock.
	// The signature does not cover the body: within this window a captured query string is
	// good only for the body it came with (see CheckReplay in handlePost).
	d := a.Clock.Now().UnixMilli() - ms
	if w := a.s.timestampWindow.Milliseconds(); d > w || -d > w {
		return time.Time{}, channels.Reject(http.StatusForbidden, "stale_timestamp", "timestamp outside the allowed window")
	}
	return time.UnixMilli(ms).Add(a.s.timestampWindow), nil
}

// receiverFailed answers a Receiver error as every channel does (channels.FailureOf): 4xx for
// what retrying cannot fix, 5xx — nothing acknowledged — so Weibo retries.
func (a *Adapter) receiverFailed(c echo.Context, err error, label string) error {
	f := channels.FailureOf(err, "push already received with a different body")
	f.SetRetryAfter(c)
	if f.Acknowledged() {
		return a.Refuse(c, channels.Reject(f.Status, f.Label, f.Reason))
	}
	a.Metrics.Failed.Inc()
	a.Logger.Error("weibo push not acknowledged", "type", label, "status", f.Status, "error", err.Error())
	return c.String(f.Status, f.Reason)
}
