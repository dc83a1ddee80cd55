// Package telemetry sends OpenTelemetry traces of the gateway's work to an OTLP/HTTP collector
// when one is configured: incoming requests (named by their route), database queries, jobs (with
// the trace context carried from the transaction that enqueued them), and requests to case
// systems and platforms, which receive a traceparent header so that they can join the trace.
//
// Spans carry no personal data: query strings (WeChat's carry the citizen's openid, Open311
// reads the api_key), client addresses and bound SQL parameters are never recorded, and the
// attributes the instrumentation libraries would set for them are redacted as each span starts.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river/rivertype"
	"github.com/riverqueue/rivercontrib/otelriver"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Options configure tracing. With no Endpoint tracing is off and every method returns its input
// unchanged (or nothing to add).
type Options struct {
	// Endpoint is the collector's OTLP/HTTP base URL ("http://otel-collector:4318"); traces go
	// to its /v1/traces.
	Endpoint string
	// SampleRatio is the share of new traces recorded (0 < r ≤ 1; default 1). A trace started
	// upstream (traceparent) keeps its own decision.
	SampleRatio float64
	ServiceName string
	Version     string
	// Exporter replaces the OTLP exporter (tests).
	Exporter sdktrace.SpanExporter
}

// Telemetry is the gateway's tracer provider, or nothing when tracing is off.
type Telemetry struct {
	tp   *sdktrace.TracerProvider
	prop propagation.TextMapPropagator
}

// New builds the tracer provider. It does not set OpenTelemetry's global provider: every
// instrumented part is handed this one.
func New(ctx context.Context, o Options) (*Telemetry, error) {
	if o.Endpoint == "" && o.Exporter == nil {
		return &Telemetry{}, nil
	}
	exp := o.Exporter
	if exp == nil {
		u, err := url.Parse(o.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("telemetry endpoint %q: want http(s)://host[:port]", o.Endpoint)
		}
		// An http:// URL makes the exporter send without TLS; https:// with it.
		endpoint := otlptracehttp.WithEndpointURL(strings.TrimSuffix(o.Endpoint, "/") + "/v1/traces")
		if exp, err = otlptracehttp.New(ctx, endpoint); err != nil {
			return nil, fmt.Errorf("telemetry exporter: %w", err)
		}
	}
	ratio := o.SampleRatio
	if ratio <= 0 || ratio > 1 {
		ratio = 1
	}
	name := o.ServiceName
	if name == "" {
		name = "intake-gateway"
	}
	res := resource.NewSchemaless(semconv.ServiceName(name), semconv.ServiceVersion(o.Version))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
		sdktrace.WithResource(res),
		sdktrace.WithSpanProcessor(redactor{}),
		sdktrace.WithBatcher(redactingExporter{next: exp}),
	)
	return &Telemetry{tp: tp, prop: propagation.TraceContext{}}, nil
}

// Enabled says whether traces are recorded.
func (t *Telemetry) Enabled() bool { return t != nil && t.tp != nil }

// Shutdown sends what is buffered and stops.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	if err := t.tp.Shutdown(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("telemetry shutdown: %w", err)
	}
	return nil
}

// Flush exports the spans buffered so far.
func (t *Telemetry) Flush(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	return t.tp.ForceFlush(ctx)
}

// TracerProvider is the provider (a no-op one when tracing is off).
func (t *Telemetry) TracerProvider() trace.TracerProvider {
	if !t.Enabled() {
		return noop.NewTracerProvider()
	}
	return t.tp
}

// Handler traces every request h serves, continuing a trace the caller started (traceparent).
// The span is named by the echo route once it is known (Routes); until then by the method.
func (t *Telemetry) Handler(h http.Handler) http.Handler {
	if !t.Enabled() {
		return h
	}
	return otelhttp.NewHandler(h, "http.request",
		otelhttp.WithTracerProvider(t.tp), otelhttp.WithPropagators(t.prop),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }),
		otelhttp.WithFilter(func(r *http.Request) bool { return r.URL.Path != "/healthz" && r.URL.Path != "/readyz" }))
}

// Routes names each request's span after its echo route ("POST /v1/submissions",
// "POST /hooks/wechat/:id"): a template, never the concrete path with its ids.
func (t *Telemetry) Routes() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if span := trace.SpanFromContext(c.Request().Context()); span.IsRecording() {
				route := c.Path()
				span.SetName(c.Request().Method + " " + route)
				span.SetAttributes(semconv.HTTPRoute(route))
			}
			return next(c)
		}
	}
}

// Transport traces requests sent through rt and sends them the trace context (traceparent).
func (t *Telemetry) Transport(rt http.RoundTripper) http.RoundTripper {
	if !t.Enabled() {
		return rt
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	return otelhttp.NewTransport(rt, otelhttp.WithTracerProvider(t.tp), otelhttp.WithPropagators(t.prop),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Host }))
}

// PlatformTransport traces requests to the messaging platforms (WeChat, Twilio, Weibo and the
// media downloads from them) without sending them the trace context: a traceparent means
// something only to a system that joins our traces, and the platforms are third parties.
func (t *Telemetry) PlatformTransport(rt http.RoundTripper) http.RoundTripper {
	if !t.Enabled() {
		return rt
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	return otelhttp.NewTransport(rt, otelhttp.WithTracerProvider(t.tp), otelhttp.WithPropagators(propagation.NewCompositeTextMapPropagator()),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method + " " + r.URL.Host }))
}

// QueryTracer traces database queries (statement text only, never the bound values); nil when
// tracing is off.
func (t *Telemetry) QueryTracer() pgx.QueryTracer {
	if !t.Enabled() {
		return nil
	}
	return otelpgx.NewTracer(otelpgx.WithTracerProvider(t.tp), otelpgx.WithTrimSQLInSpanName(),
		otelpgx.WithDisableConnectionDetailsInAttributes())
}

// JobMiddleware traces job inserts and work, carrying the trace context in the job's metadata
// from the transaction that enqueued it to the worker; none when tracing is off.
func (t *Telemetry) JobMiddleware() []rivertype.Middleware {
	if !t.Enabled() {
		return nil
	}
	return []rivertype.Middleware{otelriver.NewMiddleware(&otelriver.MiddlewareConfig{
		TracerProvider: t.tp, EnableTracePropagation: true, EnableWorkSpanJobKindSuffix: true,
	})}
}

// BatchContext starts a span for a commit that serves several requests at once (group commit):
// a child of the first request's span, linked to every other one, so each request's trace shows
// the transaction that stored it and the jobs enqueued there. The context carries only the span,
// not any request's deadline. Nil when tracing is off.
func (t *Telemetry) BatchContext(name string) func(members []context.Context) (context.Context, func()) {
	if !t.Enabled() {
		return nil
	}
	tracer := t.tp.Tracer("github.com/hotline12345/intake-gateway/store")
	return func(members []context.Context) (context.Context, func()) {
		parent := context.Background()
		var links []trace.Link
		for i, m := range members {
			sc := trace.SpanContextFromContext(m)
			if !sc.IsValid() {
				continue
			}
			if i == 0 {
				parent = trace.ContextWithSpanContext(parent, sc)
				continue
			}
			links = append(links, trace.Link{SpanContext: sc})
		}
		ctx, span := tracer.Start(parent, name, trace.WithLinks(links...),
			trace.WithAttributes(attribute.Int("batch.size", len(members))))
		return ctx, func() { span.End() }
	}
}

// redactedKeys are attributes instrumentation sets that can carry personal data: the query
// string (a WeChat push's openid, an Open311 read's api_key), the full URL, and who is calling.
var redactedKeys = []attribute.Key{
	"url.query", "url.full", "http.url", "http.target",
	"client.address", "network.peer.address", "net.peer.ip", "net.sock.peer.addr", "http.client_ip",
	"db.query.parameter", "user.id", "enduser.id",
}

func redacted(key attribute.Key) bool {
	for _, k := range redactedKeys {
		if key == k || strings.HasPrefix(string(key), string(k)+".") {
			return true
		}
	}
	return false
}

// redactor overwrites those attributes as a span starts, so that nothing reading live spans
// sees them.
type redactor struct{}

func (redactor) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) {
	var kv []attribute.KeyValue
	for _, a := range s.Attributes() {
		if redacted(a.Key) {
			kv = append(kv, attribute.String(string(a.Key), "[redacted]"))
		}
	}
	if len(kv) > 0 {
		s.SetAttributes(kv...)
	}
}

// redactingExporter redacts again on the way out, because instrumentation may set attributes
// after the span started (otelhttp's client sets url.full — with a platform's access_token or
// app secret in the query — once the request is sent).
type redactingExporter struct{ next sdktrace.SpanExporter }

func (e redactingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	out := make([]sdktrace.ReadOnlySpan, len(spans))
	for i, s := range spans {
		out[i] = s
		attrs := s.Attributes()
		for j, a := range attrs {
			if !redacted(a.Key) {
				continue
			}
			clean := append([]attribute.KeyValue(nil), attrs...)
			for k := j; k < len(clean); k++ {
				if redacted(clean[k].Key) {
					clean[k] = attribute.String(string(clean[k].Key), "[redacted]")
				}
			}
			out[i] = redactedSpan{ReadOnlySpan: s, attrs: clean}
			break
		}
	}
	return e.next.ExportSpans(ctx, out)
}

func (e redactingExporter) Shutdown(ctx context.Context) error { return e.next.Shutdown(ctx) }

// redactedSpan is a finished span with its attributes replaced.
type redactedSpan struct {
	sdktrace.ReadOnlySpan
	attrs []attribute.KeyValue
}

func (s redactedSpan) Attributes() []attribute.KeyValue { return s.attrs }
func (redactor) OnEnd(sdktrace.ReadOnlySpan)            {}
func (redactor) Shutdown(context.Context) error         { return nil }
func (redactor) ForceFlush(context.Context) error       { return nil }
