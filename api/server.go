// Package api serves the gateway's REST API: it implements the strict handler interface that
// package gen generates from openapi.yaml (the source of truth) by calling the application core,
// and adds what the spec cannot express — API-key scopes and rate limits, problem+json errors,
// health endpoints, attachment downloads and the offline API documentation. Channel webhooks
// register their own routes on the same echo server.
package api

import (
	"context"
	_ "embed"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo-contrib/echoprometheus"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/api/gen"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/ratelimit"
	"github.com/hotline12345/intake-gateway/media"
)

//go:embed openapi.yaml
var specYAML []byte

// Spec returns the OpenAPI document the server implements.
func Spec() []byte { return specYAML }

// Limits bound what one request may carry.
type Limits struct {
	// MaxBodyBytes is the largest JSON body (413 above it).
	MaxBodyBytes int64
	// MaxBatchLines and MaxBatchBytes bound one NDJSON batch.
	MaxBatchLines int
	MaxBatchBytes int64
	// IdempotencyKey is the longest Idempotency-Key header.
	IdempotencyKey int
	// MaxFutureSkew is how far in the future a case event's time may lie (clock skew).
	MaxFutureSkew time.Duration
}

// Store is what the REST API reads from the case store, and the deliveries it replays.
type Store interface {
	GetCase(ctx context.Context, ref string) (*intake.Case, error)
	ListCases(ctx context.Context, f intake.CaseFilter) (intake.CasePage, error)
	Deliveries(ctx context.Context, caseID string) ([]intake.Delivery, error)
	CaseNotifications(ctx context.Context, caseID string) ([]intake.Notification, error)
	ListDeliveries(ctx context.Context, f intake.DeliveryFilter) (intake.DeliveryPage, error)
	GetDelivery(ctx context.Context, id string) (*intake.Delivery, error)
	DeliveryAttempts(ctx context.Context, deliveryID string) ([]intake.DeliveryAttempt, error)
	RetryDelivery(ctx context.Context, id string) (*intake.Delivery, error)
	// Ready reports whether the store is reachable and its schema current (/readyz).
	Ready(ctx context.Context) error
}

// Deps are what the server needs.
type Deps struct {
	Store     Store
	Submitter intake.Submitter
	APIKeys   []APIKey
	Limits    Limits
	// TrustedProxies are the CIDR ranges whose X-Forwarded-For is believed (client addresses
	// for logs and rate limits).
	TrustedProxies []string
	// RequestTimeout bounds a request's work, so a slow store answers 503 instead of hanging.
	RequestTimeout time.Duration
	// Streams are the routes (echo paths, e.g. /console/live) exempt from RequestTimeout:
	// long-lived streams that bound their own lifetime.
	Streams []string
	Logger  *slog.Logger
	// Registry receives the HTTP metrics; MetricsHandler serves it on the admin listener, never
	// on this public server.
	Registry *prometheus.Registry
	// Events records the case system's status events (and what citizens are told of them).
	Events *app.StatusEvents
	// Attachments serves fetched media at /v1/attachments/{id}; nil leaves the route out.
	Attachments media.Store
	Clock       intake.Clock
	// Auth checks API keys (and limits their rate); nil: one built from APIKeys, unlimited.
	// Routes added outside New (the call-centre transcripts) should use the same one.
	Auth *Authenticator
	// ReadDeadlines bound reading a request's body, by route (zero: the server's ReadTimeout).
	ReadDeadlines ReadDeadlines
	// AuthFailures, when set, refuses (429) client addresses whose requests keep failing
	// authentication, on every route including the channels' webhooks.
	AuthFailures *ratelimit.Keyed
	// Draining, when it reports true, makes /readyz fail so that a balancer stops sending
	// requests while the process shuts down.
	Draining func() bool
	// Audit, when set, records administrative actions (delivery replays) in the audit log.
	Audit Auditor
}

// Auditor appends to the audit log.
type Auditor interface {
	AppendAudit(ctx context.Context, e intake.AuditEntry) error
}

// Server implements the generated StrictServerInterface.
type Server struct {
	deps Deps
}

var _ gen.StrictServerInterface = (*Server)(nil)

// New builds the echo server with every REST route.
func New(deps Deps) (*echo.Echo, error) {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	if deps.Clock == nil {
		deps.Clock = intake.SystemClock
	}
	if ss, ok := deps.Store.(app.StatusStore); ok && deps.Events == nil {
		// Without a planner nobody is notified: the wiring passes its own for that.
		deps.Events = app.NewStatusEvents(ss, nil, deps.Clock, deps.Logger, deps.Limits.MaxFutureSkew)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Binder = StrictJSONBinder{}
	e.HTTPErrorHandler = errorHandler(deps.Logger)
	extractor, err := ipExtractor(deps.TrustedProxies)
	if err != nil {
		return nil, err
	}
	e.IPExtractor = extractor

	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{DisableStackAll: true, LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
		deps.Logger.Error("panic", "route", c.Path(), "error", err.Error(), "stack", string(stack))
		return err
	}}))
	e.Use(middleware.RequestID())
	e.Use(requestLogger(deps.Logger))
	e.Use(echoprometheus.NewMiddlewareWithConfig(echoprometheus.MiddlewareConfig{
		Namespace:  "intake",
		Subsystem:  "http",
		Registerer: deps.Registry,
		// Label by route template, never by raw URL: paths carry case numbers and query strings
		// carry platform user ids.
		LabelFuncs: map[string]echoprometheus.LabelValueFunc{
			"host": func(echo.Context, error) string { return "" },
			"url":  func(c echo.Context, _ error) string { return c.Path() },
		},
		DoNotUseRequestPathFor404: true,
	}))
	e.Use(readDeadline(deps.ReadDeadlines))
	e.Use(closeAfterEarlyRefusal())
	if deps.AuthFailures != nil {
		e.Use(authFailureLimit(deps.AuthFailures))
	}
	e.Use(requestTimeout(deps.RequestTimeout, deps.Streams))

	srv := &Server{deps: deps}
	if deps.Auth == nil {
		deps.Auth = NewAuthenticator(deps.APIKeys)
	}
	auth := deps.Auth.Middleware()
	jsonBody := ReadBody(deps.Limits.MaxBodyBytes, "application/json")
	ndjsonBody := ReadBody(deps.Limits.MaxBatchBytes, "application/x-ndjson", "application/jsonl", "application/json-lines")
	gen.RegisterHandlersWithOptions(e, gen.NewStrictHandler(srv, nil), gen.RegisterHandlersOptions{
		OperationMiddlewares: map[string][]echo.MiddlewareFunc{
			"createSubmission":      {auth, RequireScope(ScopeSubmit), jsonBody},
			"createSubmissionBatch": {auth, RequireScope(ScopeSubmit), ndjsonBody},
			"getCase":               {auth, RequireScope(ScopeRead)},
			"listCases":             {auth, RequireScope(ScopeRead)},
			"postCaseEvent":         {auth, RequireScope(ScopeEvents), jsonBody},
			"listDeliveries":        {auth, RequireScope(ScopeRead)},
			"getDelivery":           {auth, RequireScope(ScopeRead)},
			"retryDelivery":         {auth, RequireScope(ScopeAdmin)},
		},
	})
	if deps.Attachments != nil {
		e.GET("/v1/attachments/:id", AttachmentHandler(deps.Attachments), auth, RequireScope(ScopeRead))
	}
	e.GET("/openapi.yaml", func(c echo.Context) error { return c.Blob(http.StatusOK, "application/yaml", specYAML) })
	docs, err := renderDocs(specYAML)
	if err != nil {
		return nil, err
	}
	e.GET("/docs", func(c echo.Context) error { return c.HTMLBlob(http.StatusOK, docs) })
	return e, nil
}

func (s *Server) now() time.Time { return s.deps.Clock.Now() }

// MetricsHandler serves the registry in the Prometheus text format, for the admin listener.
func MetricsHandler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

// ipExtractor trusts X-Forwarded-For only from the configured proxies.
func ipExtractor(trusted []string) (echo.IPExtractor, error) {
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, cidr := range trusted {
		_, n, err := net.ParseCIDR(cidr)
		if err != nil {
			return nil, err
		}
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...), nil
}

// requestTimeout bounds each request's work so that a slow store ends in a 503 (and a retry by
// the caller) instead of a connection the platform gives up on.
func requestTimeout(d time.Duration, streams []string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if d <= 0 || slices.Contains(streams, c.Path()) {
				return next(c)
			}
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// requestLogger logs one line per request: route template, status, latency, request id and API
// client. Never the raw URI (query strings carry platform user ids) and never bodies.
func requestLogger(logger *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogLatency: true, LogRequestID: true, LogMethod: true, LogRoutePath: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			attrs := []slog.Attr{
				slog.String("method", v.Method), slog.String("route", v.RoutePath), slog.Int("status", v.Status),
				slog.Float64("latency_ms", float64(v.Latency.Microseconds())/1000), slog.String("request_id", v.RequestID),
			}
			if p, ok := c.Get("principal").(string); ok {
				attrs = append(attrs, slog.String("client", p))
			}
			if v.Error != nil && v.Status >= 500 {
				attrs = append(attrs, slog.String("error", v.Error.Error()))
			}
			logger.LogAttrs(c.Request().Context(), level, "request", attrs...)
			return nil
		},
	})
}

// errorHandler renders every error that reaches echo as problem+json.
func errorHandler(logger *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		p := toProblem(err)
		if p.Status >= 500 && !errors.Is(err, intake.ErrUnavailable) {
			logger.ErrorContext(c.Request().Context(), "request failed", "route", c.Path(), "error", err.Error())
		}
		if werr := writeProblem(c, p); werr != nil {
			logger.ErrorContext(c.Request().Context(), "write problem", "error", werr.Error())
		}
	}
}
