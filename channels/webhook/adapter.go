package webhook

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"time"

	"github.com/hotline12345/intake-gateway/internal/app"

	"github.com/labstack/echo/v4"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/internal/logging"
)

// Validate checks a channel entry of type webhook: every setting, and every JSON pointer against
// the entry's sample payload, which is also run through the same extraction as requests. Every
// problem is reported, each naming its key as channels[<id>].<key>. config check calls it; New
// calls it too, so a gateway never starts with a webhook it would refuse to check.
func Validate(cfg channels.Config) error {
	_, err := compile(cfg)
	return err
}

// Adapter serves one configured webhook channel.
type Adapter struct {
	s *spec
	// Common is the receiver, logger, clock and request counters every adapter takes from Deps.
	channels.Common
}

var _ channels.Adapter = (*Adapter)(nil)

// New validates the channel's configuration (see Validate) and returns its adapter.
func New(cfg channels.Config, deps channels.Deps) (*Adapter, error) {
	s, err := compile(cfg)
	if err != nil {
		return nil, err
	}
	base, err := deps.Common("webhook", "Webhook", cfg.ID)
	if err != nil {
		return nil, err
	}
	return &Adapter{s: s, Common: base}, nil
}

// Path is the webhook path of the channel: /hooks/webhook/<id>.
func (a *Adapter) Path() string { return "/hooks/webhook/" + a.s.id }

// Register adds POST on the channel's path. Only configured ids get routes.
func (a *Adapter) Register(e *echo.Echo) {
	e.POST(a.Path(), a.handle)
}

// handle authenticates a request, extracts the submission, hands it to the Receiver and answers
// in the configured shape. Every way out writes the answer itself, as plain text for refusals.
func (a *Adapter) handle(c echo.Context) error {
	req := c.Request()
	if req.ContentLength > a.s.maxBody {
		return a.Refuse(c, channels.Reject(http.StatusRequestEntityTooLarge, "too_large", "request body too large"))
	}
	// The body is read before the signature is checked because the signature may cover it; the
	// size limit bounds what an unauthenticated caller can make us read.
	body, err := io.ReadAll(io.LimitReader(req.Body, a.s.maxBody+1))
	if err != nil {
		return a.Refuse(c, channels.Reject(http.StatusBadRequest, "read_error", "could not read request body"))
	}
	if int64(len(body)) > a.s.maxBody {
		return a.Refuse(c, channels.Reject(http.StatusRequestEntityTooLarge, "too_large", "request body too large"))
	}
	if f := a.s.sig.verify(req, body); f != nil {
		return a.Refuse(c, f)
	}
	// Header and query timestamps are checked before the body is parsed; a pointer needs it.
	var sent time.Time
	if a.s.ts.src.kind != refPointer {
		var raw string
		if a.s.ts.src.kind == refHeader {
			raw = req.Header.Get(a.s.ts.src.name)
		} else {
			raw = req.URL.Query().Get(a.s.ts.src.name)
		}
		var f *channels.Rejection
		if sent, f = a.checkTime(raw, raw != ""); f != nil {
			return a.Refuse(c, f)
		}
	}
	doc, err := parseJSON(body)
	if err != nil {
		return a.Refuse(c, channels.Reject(http.StatusBadRequest, "malformed_json", err.Error()))
	}
	if a.s.ts.src.kind == refPointer {
		v, ok := a.s.ts.ptr.Get(doc)
		if _, f := a.checkTime(v, ok && v != nil); f != nil {
			return a.Refuse(c, f)
		}
	}
	sub, ferr := a.s.fields.extract(doc, a.s.id, a.s.kind)
	if ferr != nil {
		return a.Refuse(c, channels.Reject(http.StatusBadRequest, "bad_field", ferr.Error()))
	}
	ctype := req.Header.Get(echo.HeaderContentType)
	if ctype == "" {
		ctype = echo.MIMEApplicationJSON
	}
	sub.Raw = intake.RawPayload{ContentType: ctype, Body: body}
	sum := sha256.Sum256(body)
	sub.PayloadHash = hex.EncodeToString(sum[:])
	a.Metrics.Requests.WithLabelValues("message").Inc()

	ctx, cancel := context.WithTimeout(req.Context(), a.s.replyTimeout)
	defer cancel()
	// A signature that does not cover the body (a pointer timestamp needs the body signed, so
	// this one is in a header or the query) is bound to the body here.
	if !a.s.sig.covers(ref{kind: refBody}) {
		sig, nonce := a.s.sig.identity(req)
		replayed, err := a.CheckReplay(ctx, a.s.id, sig, nonce, body, sent.Add(a.s.ts.window))
		if err != nil {
			return a.receiverFailed(c, err)
		}
		if replayed {
			return a.Refuse(c, channels.Reject(http.StatusForbidden, "replayed", "request signature already used with another body"))
		}
	}
	reply, err := a.Receiver.Receive(ctx, app.Message{Submission: *sub})
	if err != nil {
		return a.receiverFailed(c, err)
	}
	a.Logger.Debug("webhook request handled", "citizen", logging.PseudoID(citizenID(sub)), "outcome", string(reply.Outcome))
	out := a.s.reply.render(reply, sub.ExternalID, a.s.id)
	return c.Blob(a.s.reply.status, a.s.reply.contentType, out)
}

// checkTime checks the request time against the window and returns it; nil when it passed.
func (a *Adapter) checkTime(v any, present bool) (time.Time, *channels.Rejection) {
	if !present {
		return time.Time{}, channels.Reject(http.StatusBadRequest, "bad_timestamp", "missing timestamp")
	}
	t, err := parseTime(v, a.s.ts.format)
	if err != nil {
		return time.Time{}, channels.Reject(http.StatusBadRequest, "bad_timestamp", "invalid timestamp: "+err.Error())
	}
	if d := a.Clock.Now().Sub(t); d > a.s.ts.window || -d > a.s.ts.window {
		return time.Time{}, channels.Reject(http.StatusForbidden, "stale_timestamp", "timestamp outside the allowed window")
	}
	return t, nil
}

func citizenID(sub *intake.Submission) string {
	if key, ok := app.SenderKey(sub.Citizen); ok {
		return key.Value
	}
	return sub.Metadata[MetadataSenderID]
}

// receiverFailed answers a Receiver error as every channel does (channels.FailureOf): 4xx for
// what retrying cannot fix, 5xx — nothing acknowledged — so the platform retries.
func (a *Adapter) receiverFailed(c echo.Context, err error) error {
	f := channels.FailureOf(err, "external id already used for a different payload")
	f.SetRetryAfter(c)
	if f.Acknowledged() {
		return a.Refuse(c, channels.Reject(f.Status, f.Label, f.Reason))
	}
	a.Metrics.Failed.Inc()
	a.Logger.Error("webhook request not acknowledged", "status", f.Status, "error", err.Error())
	return c.String(f.Status, f.Reason)
}
