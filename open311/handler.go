package open311

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/api"
	"github.com/hotline12345/intake-gateway/internal/replies"
)

// Prefix is where the endpoint is served.
const Prefix = "/open311/v2/"

// Specification is the URL discovery names for GeoReport v2.
const Specification = "http://wiki.open311.org/GeoReport_v2"

// NoticeText is the name of the service_notice text in the messages file. A messages file
// without it gives no notice (the field is optional in the spec).
const NoticeText = "open311_notice"

// Store is what the endpoint reads: a case, whether a submission's key is already stored, and
// the searches of intake.Requests.
type Store interface {
	GetCase(ctx context.Context, ref string) (*intake.Case, error)
	MessageContext(ctx context.Context, q intake.MessageQuery) (intake.MessageContext, error)
	intake.Requests
}

// Keys finds the API client a key belongs to and applies its rate limit (api.Authenticator).
type Keys interface {
	Lookup(key string) (api.Principal, bool)
	Admit(name string) (ok bool, retryAfter time.Duration)
}

// Deps are what the handler needs.
type Deps struct {
	Store     Store
	Submitter intake.Submitter
	Keys      Keys
	// Services are the service list, in order (Services).
	Services []Service
	// Texts returns the citizen-facing texts in use (service_notice, status names); nil: no
	// notices and the default status names.
	Texts  func() *replies.Replies
	Clock  intake.Clock
	Logger *slog.Logger
}

// Options tune the endpoint.
type Options struct {
	// PublicBaseURL is the gateway's public origin ("https://hotline.example.gov.cn"), from
	// which discovery names the endpoint; empty: discovery names a relative URL.
	PublicBaseURL string
	// Contact and KeyService are discovery's contact line and where to ask for an API key.
	Contact    string
	KeyService string
	// Jurisdiction, when set, is the only jurisdiction_id accepted (404 for another); a request
	// without one is always accepted.
	Jurisdiction string
	// PublicReads lets anyone read every request filed through Open311, as the spec's open
	// model has it. Off, a read needs an api_key and shows only the requests that key filed:
	// a citizen's description and address are not published to whoever asks.
	PublicReads bool
	// DuplicateWindow is how long the same API key, description and location return the
	// request already filed instead of a second case (default 10 minutes).
	DuplicateWindow time.Duration
	// MaxBodyBytes bounds a POST body (default 64 KiB: a 4,000-character description and
	// every other field, percent-encoded, fit well within it).
	MaxBodyBytes int64
	// MaxRange is the longest start_date..end_date period, and the default period (90 days, as
	// the spec has it).
	MaxRange time.Duration
	// Location is the zone of the timestamps written (default UTC); each carries its offset.
	Location *time.Location
	// Changeset is when the endpoint's configuration last changed (discovery); zero: the time
	// the handler was built.
	Changeset time.Time
}

func (o Options) withDefaults(now time.Time) Options {
	if o.DuplicateWindow <= 0 {
		o.DuplicateWindow = 10 * time.Minute
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 64 << 10
	}
	if o.MaxRange <= 0 {
		o.MaxRange = 90 * 24 * time.Hour
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Changeset.IsZero() {
		o.Changeset = now
	}
	o.PublicBaseURL = strings.TrimRight(o.PublicBaseURL, "/")
	return o
}

// Handler serves the endpoint.
type Handler struct {
	deps     Deps
	opts     Options
	services map[string]*Service
}

// New builds the handler.
func New(deps Deps, opts Options) (*Handler, error) {
	if deps.Store == nil || deps.Submitter == nil || deps.Keys == nil {
		return nil, errors.New("open311: a store, a submitter and the API keys are required")
	}
	if deps.Clock == nil {
		deps.Clock = intake.SystemClock
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	h := &Handler{deps: deps, opts: opts.withDefaults(deps.Clock.Now()), services: map[string]*Service{}}
	for i := range deps.Services {
		s := &h.deps.Services[i]
		if _, dup := h.services[s.Code]; dup {
			return nil, fmt.Errorf("open311: service %q listed twice", s.Code)
		}
		h.services[s.Code] = s
	}
	return h, nil
}

// errResponse is a refusal: the status and the error list's descriptions.
type errResponse struct {
	status       int
	descriptions []string
}

func (e *errResponse) Error() string { return strings.Join(e.descriptions, "; ") }

func refuse(status int, descriptions ...string) *errResponse {
	return &errResponse{status: status, descriptions: descriptions}
}

func badFields(fields []intake.FieldError) *errResponse {
	d := make([]string, len(fields))
	for i, f := range fields {
		d[i] = f.Field + ": " + f.Reason
	}
	return refuse(http.StatusBadRequest, d...)
}

// ServeHTTP routes by path and extension.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	format := XML
	var err error
	if !ok {
		err = refuse(http.StatusNotFound, "not an Open311 resource")
	} else {
		var name string
		name, format, ok = splitFormat(rest)
		if !ok {
			err = refuse(http.StatusNotFound, "unknown resource; add .xml or .json to the path")
		} else {
			err = h.route(w, r, name, format)
		}
	}
	if err == nil {
		return
	}
	var e *errResponse
	switch {
	case errors.As(err, &e):
	case errors.Is(err, intake.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded):
		e = refuse(http.StatusServiceUnavailable, "the service is temporarily unavailable; retry later")
	default:
		h.deps.Logger.ErrorContext(r.Context(), "open311 request failed", "path", routeName(r.URL.Path), "error", err.Error())
		e = refuse(http.StatusInternalServerError, "internal error")
	}
	if werr := writeErrors(w, format, e.status, e.descriptions...); werr != nil {
		h.deps.Logger.WarnContext(r.Context(), "open311 write error list", "error", werr.Error())
	}
}

// routeName is the path with the case number left out, for logs.
func routeName(path string) string {
	if strings.HasPrefix(path, Prefix+"requests/") {
		return Prefix + "requests/{id}"
	}
	if strings.HasPrefix(path, Prefix+"services/") {
		return Prefix + "services/{code}"
	}
	return path
}

// splitFormat takes the extension off the last segment: "requests/WH1.json" is
// ("requests/WH1", JSON).
func splitFormat(rest string) (string, Format, bool) {
	dot := strings.LastIndexByte(rest, '.')
	if dot < 0 || strings.Contains(rest[dot:], "/") {
		return "", XML, false
	}
	switch Format(rest[dot+1:]) {
	case XML:
		return rest[:dot], XML, true
	case JSON:
		return rest[:dot], JSON, true
	}
	return "", XML, false
}

func (h *Handler) route(w http.ResponseWriter, r *http.Request, name string, f Format) error {
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	allow := func(methods ...string) error {
		for _, m := range methods {
			if m == method {
				return nil
			}
		}
		w.Header().Set("Allow", strings.Join(methods, ", "))
		return refuse(http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed here")
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return refuse(http.StatusBadRequest, "the query string is malformed")
	}
	if j := q.Get("jurisdiction_id"); j != "" && h.opts.Jurisdiction != "" && j != h.opts.Jurisdiction {
		return refuse(http.StatusNotFound, "jurisdiction_id: unknown jurisdiction")
	}
	switch {
	case name == "discovery":
		if err := allow(http.MethodGet); err != nil {
			return err
		}
		return h.discovery(w, f)
	case name == "services":
		if err := allow(http.MethodGet); err != nil {
			return err
		}
		return h.serviceList(w, f)
	case strings.HasPrefix(name, "services/"):
		if err := allow(http.MethodGet); err != nil {
			return err
		}
		return h.definition(w, f, strings.TrimPrefix(name, "services/"))
	case name == "requests":
		if err := allow(http.MethodGet, http.MethodPost); err != nil {
			return err
		}
		if method == http.MethodPost {
			return h.post(w, r, f)
		}
		return h.list(w, r, f, q)
	case strings.HasPrefix(name, "requests/"):
		if err := allow(http.MethodGet); err != nil {
			return err
		}
		return h.one(w, r, f, q, strings.TrimPrefix(name, "requests/"))
	case name == "servicerequestupdates":
		if err := allow(http.MethodGet); err != nil {
			return err
		}
		return h.updates(w, r, f, q)
	}
	return refuse(http.StatusNotFound, "unknown resource")
}

func (h *Handler) discovery(w http.ResponseWriter, f Format) error {
	cs := h.opts.Changeset.In(h.opts.Location).Format(time.RFC3339)
	d := discoveryJSON{
		Changeset: cs, Contact: h.opts.Contact, KeyURL: h.opts.KeyService,
		Endpoints: []endpointJSON{{
			Specification: Specification, URL: h.opts.PublicBaseURL + strings.TrimSuffix(Prefix, "/"), Changeset: cs,
			Type: "production", Formats: []string{"text/xml", "application/json"},
		}},
	}
	return write(w, f, http.StatusOK, d, d)
}

func (h *Handler) serviceList(w http.ResponseWriter, f Format) error {
	list := make([]serviceJSON, 0, len(h.deps.Services))
	for _, s := range h.deps.Services {
		list = append(list, serviceJSON{
			ServiceCode: s.Code, ServiceName: s.Name, Description: s.Description, Metadata: len(s.Attributes) > 0,
			Type: "realtime", Keywords: strings.Join(s.Keywords, ", "), Group: s.Group,
		})
	}
	return write(w, f, http.StatusOK, list, xmlServices{Services: list})
}

func (h *Handler) definition(w http.ResponseWriter, f Format, code string) error {
	s, ok := h.services[code]
	if !ok {
		return refuse(http.StatusNotFound, "service_code: unknown service")
	}
	d := definitionJSON{ServiceCode: s.Code, Attributes: make([]attributeJSON, 0, len(s.Attributes))}
	for i, a := range s.Attributes {
		values := make([]valueJSON, 0, len(a.Values))
		for _, v := range a.Values {
			values = append(values, valueJSON(v))
		}
		d.Attributes = append(d.Attributes, attributeJSON{
			Variable: true, Code: a.Code, Datatype: a.Datatype, Required: a.Required,
			DatatypeDescription: a.DatatypeDescription, Order: i + 1, Description: a.Description, Values: values,
		})
	}
	return write(w, f, http.StatusOK, d, d)
}

// readForm reads a POST body: form-encoded, UTF-8, within the size bound.
func (h *Handler) readForm(r *http.Request) ([]byte, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, refuse(http.StatusBadRequest, "Content-Type must be application/x-www-form-urlencoded")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, refuse(http.StatusBadRequest, "the form must be UTF-8")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, refuse(http.StatusBadRequest, fmt.Sprintf("the body is larger than %d bytes", h.opts.MaxBodyBytes))
		}
		return nil, refuse(http.StatusBadRequest, "the body could not be read")
	}
	return body, nil
}

func (h *Handler) texts() *replies.Replies {
	if h.deps.Texts == nil {
		return nil
	}
	return h.deps.Texts()
}

func (h *Handler) timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(h.opts.Location).Format(time.RFC3339)
}
