// Package twilio is the SMS channel over Twilio, and Twilio's recorded-call transcriptions.
//
// Routes, per configured channel of type twilio:
//
//	POST /hooks/twilio/{channel_id}/sms            inbound SMS/MMS → a case; answered in TwiML
//	POST /hooks/twilio/{channel_id}/status         delivery status of messages the gateway sent
//	POST /hooks/twilio/{channel_id}/transcription  <Record transcribe> callback → a phone case
//
// Every request must carry a valid X-Twilio-Signature for the URL Twilio called (see
// signature.go and publicurl.go); anything else is refused with 403 before its content is looked
// at. The adapter only verifies, parses and renders: what to answer (case number, status
// queries, threading, opt-outs) is the shared channels.Receiver's decision. Sending messages is
// Sender, a thin client over twilio-go's REST API.
package twilio

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/hotline12345/intake-gateway/internal/app"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/internal/logging"
)

// Route names, used in paths and as the metrics label.
const (
	RouteSMS           = "sms"
	RouteStatus        = "status"
	RouteTranscription = "transcription"
)

// StatusRecorder records the delivery status Twilio reports for a message the gateway sent
// (MessageSid as returned by Sender.Send). It must be idempotent: Twilio may report a status
// more than once, and statuses can arrive out of order (sent after delivered).
type StatusRecorder interface {
	RecordMessageStatus(ctx context.Context, channelID, messageSID, status, errorCode string) error
}

// LogStatusRecorder is the default StatusRecorder: it only logs, on a logger that already
// names the channel.
type LogStatusRecorder struct {
	Logger *slog.Logger
}

// RecordMessageStatus logs the status.
func (l LogStatusRecorder) RecordMessageStatus(ctx context.Context, _, messageSID, status, errorCode string) error {
	l.Logger.InfoContext(ctx, "twilio message status (not recorded: no status recorder configured)",
		"message_sid", messageSID, "status", status, "error_code", errorCode)
	return nil
}

// Option configures an Adapter.
type Option func(*Adapter)

// WithStatusRecorder sets where delivery statuses go (default: LogStatusRecorder).
func WithStatusRecorder(r StatusRecorder) Option {
	return func(a *Adapter) {
		if r != nil {
			a.status = r
		}
	}
}

// Adapter serves one configured Twilio channel.
type Adapter struct {
	cfg      channels.Config
	deps     channels.Deps
	log      *slog.Logger
	settings settings
	resolver urlResolver
	status   StatusRecorder
	requests *prometheus.CounterVec
	refused  *prometheus.CounterVec // intake_webhook_refused_total, curried with this channel
	macs     sync.Pool              // *verifier keyed with cfg.AuthToken
}

var _ channels.Adapter = (*Adapter)(nil)

// New builds the adapter for cfg. deps.Receiver is required.
func New(cfg channels.Config, deps channels.Deps, opts ...Option) (*Adapter, error) {
	if cfg.Type != "" && cfg.Type != "twilio" {
		return nil, fmt.Errorf("twilio: channel %s has type %q", cfg.ID, cfg.Type)
	}
	if err := deps.CheckRoute(cfg.ID); err != nil {
		return nil, err
	}
	if cfg.AuthToken == "" {
		return nil, fmt.Errorf("twilio: channel %s: auth_token is required to check signatures", cfg.ID)
	}
	if deps.Receiver == nil {
		return nil, fmt.Errorf("twilio: channel %s: no receiver", cfg.ID)
	}
	s, err := decodeSettings(cfg.Settings)
	if err != nil {
		return nil, fmt.Errorf("twilio: channel %s: %w", cfg.ID, err)
	}
	base := s.PublicBaseURL
	if base == "" {
		base = deps.PublicBaseURL
	}
	resolver, err := newURLResolver(base, deps.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("twilio: channel %s: %w", cfg.ID, err)
	}
	logger := deps.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// The same key as every other channel's log lines, so one query finds a channel's lines.
	logger = logger.With("channel", cfg.ID)
	a := &Adapter{cfg: cfg, deps: deps, log: logger, settings: s, resolver: resolver}
	a.status = LogStatusRecorder{Logger: logger}
	token := cfg.AuthToken
	a.macs.New = func() any { return newVerifier(token) }
	for _, o := range opts {
		o(a)
	}
	if a.requests, err = requestCounter(deps.Metrics); err != nil {
		return nil, fmt.Errorf("twilio: channel %s: %w", cfg.ID, err)
	}
	if a.refused, err = channels.RefusedCounter(deps.Metrics, "twilio", cfg.ID); err != nil {
		return nil, fmt.Errorf("twilio: channel %s: %w", cfg.ID, err)
	}
	return a, nil
}

// SetStatusRecorder replaces the status recorder. Call it before the server starts.
func (a *Adapter) SetStatusRecorder(r StatusRecorder) { WithStatusRecorder(r)(a) }

// Path returns the path of one of the adapter's routes.
func (a *Adapter) Path(route string) string { return "/hooks/twilio/" + a.cfg.ID + "/" + route }

// Register adds the channel's three routes to e.
func (a *Adapter) Register(e *echo.Echo) {
	e.POST(a.Path(RouteSMS), a.handleSMS)
	e.POST(a.Path(RouteStatus), a.handleStatus)
	e.POST(a.Path(RouteTranscription), a.handleTranscription)
}

// requestCounter registers (or finds, for the second Twilio channel) the webhook counter.
func requestCounter(reg prometheus.Registerer) (*prometheus.CounterVec, error) {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "intake", Subsystem: "twilio", Name: "webhooks_total",
		Help: "Twilio webhook requests by channel, route and result (ok, bad_signature, bad_request, too_large, rejected, conflict, unavailable, error).",
	}, []string{"channel_id", "route", "result"})
	if reg == nil {
		return c, nil
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing, nil
			}
		}
		return nil, err
	}
	return c, nil
}

// authenticate reads the body and checks the signature; it returns the request's parameters
// only when the signature holds.
func (a *Adapter) authenticate(r *http.Request) (*request, *requestError) {
	sig := strings.TrimSpace(r.Header.Get(SignatureHeader))
	if sig == "" {
		return nil, errNoSignature
	}
	body, rerr := readBody(r, a.settings.MaxBodyBytes)
	if rerr != nil {
		return nil, rerr
	}
	t := a.resolver.resolve(r)
	v := a.macs.Get().(*verifier)
	defer a.macs.Put(v)
	req := &request{body: body, contentType: r.Header.Get(echo.HeaderContentType)}
	if want, ok := t.bodyHash(); ok {
		if !v.valid(t.variants(), nil, sig) {
			return nil, errBadSignature
		}
		if !bodyHashMatches(body, want) {
			return nil, errBodyHash
		}
		if !utf8.Valid(body) {
			return nil, badRequest("body is not valid UTF-8")
		}
		if req.params, rerr = parseJSONParams(body); rerr != nil {
			return nil, rerr
		}
		req.jsonBody = true
	} else {
		if req.params, rerr = parseParams(body); rerr != nil {
			return nil, rerr
		}
		if !v.valid(t.variants(), req.params, sig) {
			return nil, errBadSignature
		}
	}
	if rerr := checkUTF8(req.params); rerr != nil {
		return nil, rerr
	}
	return req, nil
}

func (a *Adapter) handleSMS(c echo.Context) error {
	req, rerr := a.authenticate(c.Request())
	if rerr != nil {
		return a.refuse(c, RouteSMS, rerr)
	}
	sub, rerr := smsSubmission(a.cfg.ID, req)
	if rerr != nil {
		return a.refuse(c, RouteSMS, rerr)
	}
	reply, err := a.receive(c, sub)
	if err != nil {
		return a.fail(c, RouteSMS, sub, err)
	}
	a.logReceived(c, RouteSMS, sub, reply)
	text := reply.Text
	if !a.settings.Reply {
		text = ""
	}
	return a.writeTwiML(c, RouteSMS, text)
}

func (a *Adapter) handleTranscription(c echo.Context) error {
	req, rerr := a.authenticate(c.Request())
	if rerr != nil {
		return a.refuse(c, RouteTranscription, rerr)
	}
	sub, rerr := transcriptionSubmission(a.cfg.ID, req)
	if rerr != nil {
		return a.refuse(c, RouteTranscription, rerr)
	}
	reply, err := a.receive(c, sub)
	if err != nil {
		return a.fail(c, RouteTranscription, sub, err)
	}
	a.logReceived(c, RouteTranscription, sub, reply)
	// The call is over: Twilio ignores the answer to a transcription callback, so there is
	// nobody to say the reply to.
	return a.writeTwiML(c, RouteTranscription, "")
}

func (a *Adapter) handleStatus(c echo.Context) error {
	req, rerr := a.authenticate(c.Request())
	if rerr != nil {
		return a.refuse(c, RouteStatus, rerr)
	}
	st, rerr := deliveryStatus(req.params)
	if rerr != nil {
		return a.refuse(c, RouteStatus, rerr)
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), a.settings.ReceiveTimeout)
	defer cancel()
	if err := a.status.RecordMessageStatus(ctx, a.cfg.ID, st.MessageSID, st.Status, st.ErrorCode); err != nil {
		a.log.ErrorContext(ctx, "twilio status not recorded", "message_sid", st.MessageSID, "status", st.Status, "error", err.Error())
		a.requests.WithLabelValues(a.cfg.ID, RouteStatus, "error").Inc()
		return c.String(http.StatusServiceUnavailable, "status not recorded; retry later")
	}
	a.requests.WithLabelValues(a.cfg.ID, RouteStatus, "ok").Inc()
	return c.NoContent(http.StatusNoContent)
}

// receive hands the submission to the shared Receiver under the channel's deadline.
func (a *Adapter) receive(c echo.Context, sub intake.Submission) (app.Reply, error) {
	ctx, cancel := context.WithTimeout(c.Request().Context(), a.settings.ReceiveTimeout)
	defer cancel()
	return a.deps.Receiver.Receive(ctx, app.Message{Submission: sub})
}

// refuse answers a request the adapter will not pass on, in plain text (never a problem
// document: Twilio shows the body in its debugger).
func (a *Adapter) refuse(c echo.Context, route string, rerr *requestError) error {
	a.requests.WithLabelValues(a.cfg.ID, route, rerr.Label).Inc()
	a.refused.WithLabelValues(rerr.Label).Inc()
	r := c.Request()
	a.log.WarnContext(r.Context(), "twilio request refused", "route", route, "status", rerr.Status,
		"reason", rerr.Reason, "peer", r.RemoteAddr)
	return c.String(rerr.Status, rerr.Reason)
}

// fail answers a Receiver error as every channel does (channels.FailureOf): 4xx for what
// retrying cannot fix; 5xx — nothing acknowledged — sends Twilio to its fallback URL or retry.
func (a *Adapter) fail(c echo.Context, route string, sub intake.Submission, err error) error {
	ctx := c.Request().Context()
	f := channels.FailureOf(err, "this sid was already used for a different request")
	f.SetRetryAfter(c)
	level, result := slog.LevelError, f.Label
	if f.Acknowledged() {
		level = slog.LevelWarn
	}
	switch f.Status {
	case http.StatusBadRequest:
		result = "rejected"
	case http.StatusConflict:
		result = "conflict"
	case http.StatusInternalServerError:
		result = "error"
	}
	a.log.Log(ctx, level, "twilio submission not accepted", "route", route, "external_id", sub.ExternalID,
		"from", logging.MaskPhone(sub.Citizen.Phone), "status", f.Status, "error", err.Error())
	a.requests.WithLabelValues(a.cfg.ID, route, result).Inc()
	return c.String(f.Status, f.Reason)
}

func (a *Adapter) logReceived(c echo.Context, route string, sub intake.Submission, reply app.Reply) {
	attrs := []any{"route", route, "external_id", sub.ExternalID, "from", logging.MaskPhone(sub.Citizen.Phone),
		"outcome", string(reply.Outcome), "attachments", len(sub.Attachments)}
	if reply.Case != nil {
		attrs = append(attrs, "case_no", reply.Case.CaseNo)
	}
	a.log.InfoContext(c.Request().Context(), "twilio message received", attrs...)
}

func (a *Adapter) writeTwiML(c echo.Context, route, text string) error {
	doc, err := TwiML(text)
	if err != nil {
		// Nothing to do but log: the case is stored; an empty answer is still a valid one.
		a.log.ErrorContext(c.Request().Context(), "render TwiML", "route", route, "error", err.Error())
		doc = EmptyTwiML
	}
	a.requests.WithLabelValues(a.cfg.ID, route, "ok").Inc()
	return c.Blob(http.StatusOK, TwiMLContentType, []byte(doc))
}
