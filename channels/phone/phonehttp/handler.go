// Package phonehttp is the HTTP side of POST /v1/transcripts: it reads a call-centre upload
// (JSON, plain text or WebVTT), has channels/phone parse and validate it, submits the call as a
// phone case and answers with the case record.
//
// The route, authentication and body reading are wired by the caller (cmd): the handler expects
// api.Authenticator's principal and api.ReadBody's raw body in the request context, and returns
// *api.ProblemError or *intake.ValidationError values for the API's error handler to render as
// problem+json. Because it imports package api, package api itself must not import this one;
// register the handler from cmd (or pass it into api as an echo.HandlerFunc).
//
// Channel id: "phone:<API key name>". Each call-centre system (one API key each) is its own
// channel instance, so call ids only have to be unique per system, and they never collide with
// the Idempotency-Keys of operator-entered submissions ("rest:<name>").
package phonehttp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/api"
	"github.com/hotline12345/intake-gateway/channels/phone"
	"github.com/hotline12345/intake-gateway/internal/logging"
)

// ChannelPrefix starts the channel id of every transcript case.
const ChannelPrefix = "phone:"

// Media types the handler accepts. Pass them to api.ReadBody when wiring the route.
var MediaTypes = []string{"application/json", "text/plain", "text/vtt"}

// DefaultMaxBodyBytes bounds the body when api.ReadBody has not read it already.
const DefaultMaxBodyBytes = 1 << 20

// DeliveryLister finds the deliveries of a case (intake.Store satisfies it); a retried upload
// answers with the case as it is now, deliveries included.
type DeliveryLister interface {
	Deliveries(ctx context.Context, caseID string) ([]intake.Delivery, error)
}

// Option configures the handler.
type Option func(*handler)

// WithParseOptions sets the confidence threshold and limits of the parser.
func WithParseOptions(o phone.Options) Option { return func(h *handler) { h.parse = o } }

// WithDeliveries sets where a retried upload's deliveries come from (without it, a retry
// answers with an empty deliveries list).
func WithDeliveries(d DeliveryLister) Option { return func(h *handler) { h.deliveries = d } }

// WithMaxBodyBytes bounds the body when api.ReadBody did not run.
func WithMaxBodyBytes(n int64) Option { return func(h *handler) { h.maxBody = n } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(h *handler) { h.log = l } }

type handler struct {
	submitter  intake.Submitter
	parse      phone.Options
	deliveries DeliveryLister
	maxBody    int64
	log        *slog.Logger
}

// Metadata fields of a text or WebVTT upload: the query parameter and the header that carry
// each. JSON uploads carry them in the body under the query parameter's name.
var metaFields = []struct {
	query, header string
	set           func(*phone.Meta, string)
	// encoded: the header value is percent-encoded UTF-8 (free text).
	encoded bool
}{
	{"call_id", "X-Call-Id", func(m *phone.Meta, v string) { m.CallID = v }, false},
	{"caller_number", "X-Caller-Number", func(m *phone.Meta, v string) { m.CallerNumber = v }, false},
	{"called_line", "X-Called-Line", func(m *phone.Meta, v string) { m.CalledLine = v }, false},
	{"started_at", "X-Call-Started-At", func(m *phone.Meta, v string) { m.StartedAt = v }, false},
	{"ended_at", "X-Call-Ended-At", func(m *phone.Meta, v string) { m.EndedAt = v }, false},
	{"agent_id", "X-Agent-Id", func(m *phone.Meta, v string) { m.AgentID = v }, false},
	{"recording_url", "X-Recording-Url", func(m *phone.Meta, v string) { m.RecordingURL = v }, false},
	{"summary", "X-Operator-Summary", func(m *phone.Meta, v string) { m.Summary = v }, true},
	{"category", "X-Operator-Category", func(m *phone.Meta, v string) { m.Category = v }, false},
	{"request_type", "X-Operator-Request-Type", func(m *phone.Meta, v string) { m.RequestType = v }, false},
}

// TranscriptsHandler handles POST /v1/transcripts. Answers: 201 with the case (intake.CaseView)
// and Location on a new case; 200 with Idempotent-Replayed: true when the call (channel, call
// id) was already stored with the same content; 400 with every field problem; 409 when the call
// id was used for different content; 415 for another media type; 503 when the store could not
// commit (nothing was stored; retry).
func TranscriptsHandler(submitter intake.Submitter, opts ...Option) echo.HandlerFunc {
	h := &handler{submitter: submitter, maxBody: DefaultMaxBodyBytes}
	for _, o := range opts {
		o(h)
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h.serve
}

func (h *handler) serve(c echo.Context) error {
	req := c.Request()
	ctx := req.Context()
	p, ok := api.PrincipalFrom(ctx)
	if !ok {
		return &api.ProblemError{Status: http.StatusUnauthorized, Kind: "unauthorized", Title: "Unauthorized",
			Detail: "Send Authorization: Bearer <key>.", Header: map[string]string{"WWW-Authenticate": `Bearer realm="intake-gateway"`}}
	}
	mediaType, err := h.mediaType(req.Header.Get(echo.HeaderContentType))
	if err != nil {
		return err
	}
	body, err := h.body(req)
	if err != nil {
		return err
	}
	var call *phone.Call
	switch mediaType {
	case "application/json":
		if err := noOutsideMeta(req); err != nil {
			return err
		}
		call, err = phone.ParseJSON(body, h.parse)
	case "text/plain", "text/vtt":
		meta, merr := metaFrom(req)
		if merr != nil {
			return merr
		}
		if mediaType == "text/plain" {
			call, err = phone.ParseText(meta, body, h.parse)
		} else {
			call, err = phone.ParseWebVTT(meta, body, h.parse)
		}
	}
	if err != nil {
		return err
	}
	sub := call.Submission(ChannelPrefix+p.Name, intake.RawPayload{ContentType: req.Header.Get(echo.HeaderContentType), Body: body})
	receipt, err := h.submitter.Submit(ctx, sub)
	if err != nil {
		var ce *intake.ConflictError
		if errors.As(err, &ce) {
			return &api.ProblemError{Status: http.StatusConflict, Kind: "idempotency-conflict", Title: "call_id reused",
				Detail: "This call_id was already used for a different transcript (case " + ce.Existing.CaseNo + ")."}
		}
		return err
	}
	view := intake.CaseView{Case: receipt.Case, Deliveries: receipt.Deliveries}
	h.log.InfoContext(ctx, "transcript received", "channel_id", sub.ChannelID, "call_id", call.CallID,
		"caller", logging.MaskPhone(call.CallerNumber), "format", string(call.Format), "segments", len(call.Segments),
		"case_no", receipt.Case.CaseNo, "created", receipt.Created)
	if !receipt.Created {
		view.Deliveries = nil
		if h.deliveries != nil {
			if view.Deliveries, err = h.deliveries.Deliveries(ctx, receipt.Case.ID); err != nil {
				return err
			}
		}
		if view.Deliveries == nil {
			view.Deliveries = []intake.Delivery{}
		}
		c.Response().Header().Set("Idempotent-Replayed", "true")
		return c.JSON(http.StatusOK, view)
	}
	if view.Deliveries == nil {
		view.Deliveries = []intake.Delivery{}
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/cases/"+receipt.Case.ID)
	return c.JSON(http.StatusCreated, view)
}

func (h *handler) mediaType(contentType string) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	mt = strings.ToLower(mt)
	supported := err == nil
	if supported {
		supported = false
		for _, m := range MediaTypes {
			if mt == m {
				supported = true
			}
		}
	}
	if cs, ok := params["charset"]; supported && ok && !strings.EqualFold(cs, "utf-8") {
		supported = false
	}
	if !supported {
		return "", &api.ProblemError{Status: http.StatusUnsupportedMediaType, Kind: "unsupported-media-type",
			Title: "Unsupported Content-Type", Detail: "Send the transcript as application/json, text/plain or text/vtt, in UTF-8."}
	}
	return mt, nil
}

// body is the raw body read by api.ReadBody, or read here when that middleware did not run.
func (h *handler) body(req *http.Request) ([]byte, error) {
	if b := api.RawBody(req.Context()); b != nil {
		return b, nil
	}
	tooLarge := &api.ProblemError{Status: http.StatusRequestEntityTooLarge, Kind: "too-large", Title: "Body too large",
		Detail: fmt.Sprintf("The request body exceeds the limit of %d bytes.", h.maxBody)}
	if req.ContentLength > h.maxBody {
		return nil, tooLarge
	}
	b, err := io.ReadAll(io.LimitReader(req.Body, h.maxBody+1))
	if err != nil {
		return nil, &api.ProblemError{Status: http.StatusBadRequest, Kind: "unreadable-body", Title: "Unreadable body",
			Detail: "The request body could not be read."}
	}
	if int64(len(b)) > h.maxBody {
		return nil, tooLarge
	}
	req.Body = io.NopCloser(bytes.NewReader(b))
	return b, nil
}

// metaFrom reads a text or WebVTT upload's metadata from the query and the headers. A field
// given twice, or in both places with different values, is refused.
func metaFrom(req *http.Request) (phone.Meta, error) {
	var m phone.Meta
	var fields []intake.FieldError
	q := req.URL.Query()
	for _, f := range metaFields {
		qv, inQuery := q[f.query]
		hv, inHeader := req.Header[http.CanonicalHeaderKey(f.header)]
		if len(qv) > 1 || len(hv) > 1 {
			fields = append(fields, intake.FieldError{Field: f.query, Reason: "is given more than once"})
			continue
		}
		var v string
		if inHeader {
			v = hv[0]
			if f.encoded {
				dec, err := url.PathUnescape(v)
				if err != nil {
					fields = append(fields, intake.FieldError{Field: f.query, Reason: "header " + f.header + " must be percent-encoded UTF-8"})
					continue
				}
				v = dec
			}
		}
		if inQuery {
			if inHeader && qv[0] != v {
				fields = append(fields, intake.FieldError{Field: f.query, Reason: "query parameter and header " + f.header + " differ"})
				continue
			}
			v = qv[0]
		}
		f.set(&m, v)
	}
	if len(fields) > 0 {
		return m, &intake.ValidationError{Fields: fields}
	}
	return m, nil
}

// noOutsideMeta refuses metadata in the query or headers of a JSON upload, where it would be
// silently ignored: the body is the one place for it.
func noOutsideMeta(req *http.Request) error {
	q := req.URL.Query()
	var fields []intake.FieldError
	for _, f := range metaFields {
		if q.Has(f.query) || req.Header.Get(f.header) != "" {
			fields = append(fields, intake.FieldError{Field: f.query, Reason: "for a JSON body, give it in the body, not in the query or a header"})
		}
	}
	if len(fields) > 0 {
		return &intake.ValidationError{Fields: fields}
	}
	return nil
}
