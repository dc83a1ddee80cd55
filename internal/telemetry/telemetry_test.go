package telemetry_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/hotline12345/intake-gateway/internal/telemetry"
)

func TestOffChangesNothing(t *testing.T) {
	tel, err := telemetry.New(context.Background(), telemetry.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := http.NewServeMux()
	if tel.Enabled() || tel.Handler(h) != http.Handler(h) || tel.Transport(http.DefaultTransport) != http.DefaultTransport ||
		tel.QueryTracer() != nil || tel.JobMiddleware() != nil || tel.BatchContext("x") != nil {
		t.Fatal("tracing off still wraps or adds something")
	}
	if _, err := telemetry.New(context.Background(), telemetry.Options{Endpoint: "collector:4318"}); err == nil {
		t.Fatal("an endpoint without a scheme was accepted")
	}
}

// A WeChat push carries the citizen's openid in its query string; the request's span must not.
func TestServerSpansAreNamedByRouteAndCarryNoQueryOrAddress(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel, err := telemetry.New(context.Background(), telemetry.Options{Exporter: exp})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.Use(tel.Routes())
	e.POST("/hooks/wechat/:id", func(c echo.Context) error { return c.String(200, "success") })
	srv := httptest.NewServer(tel.Handler(e))
	defer srv.Close()
	res, err := http.Post(srv.URL+"/hooks/wechat/wx-main?openid=oSECRET-openid&signature=abc", "text/xml", strings.NewReader("<xml/>"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if err := tel.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	spans := exp.GetSpans()
	if len(spans) != 1 || spans[0].Name != "POST /hooks/wechat/:id" {
		t.Fatalf("spans %v", spans)
	}
	redacted := 0
	for _, kv := range spans[0].Attributes {
		v := kv.Value.String()
		if strings.Contains(v, "oSECRET") {
			t.Errorf("attribute %s = %q carries the openid", kv.Key, v)
		}
		// The caller's address is personal where the caller is a person; the server's own is not.
		if (kv.Key == "client.address" || kv.Key == "network.peer.address") && v != "[redacted]" {
			t.Errorf("attribute %s = %q", kv.Key, v)
		}
		if v == "[redacted]" {
			redacted++
		}
	}
	if redacted == 0 {
		t.Errorf("nothing was redacted: %v", spans[0].Attributes)
	}
}

// A group commit's span is the first request's child and links to the others.
func TestBatchContextLinksEveryMember(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tel, err := telemetry.New(context.Background(), telemetry.Options{Exporter: exp})
	if err != nil {
		t.Fatal(err)
	}
	tracer := tel.TracerProvider().Tracer("test")
	ctxA, a := tracer.Start(context.Background(), "a")
	ctxB, b := tracer.Start(context.Background(), "b")
	cancelled, cancel := context.WithCancel(ctxA)
	cancel()
	ctx, end := tel.BatchContext("commit")([]context.Context{cancelled, ctxB, context.Background()})
	if ctx.Err() != nil {
		t.Fatal("the commit's context inherited a member's cancellation")
	}
	end()
	a.End()
	b.End()
	_ = tel.Flush(context.Background())
	for _, s := range exp.GetSpans() {
		if s.Name != "commit" {
			continue
		}
		if s.Parent.SpanID() != a.SpanContext().SpanID() || len(s.Links) != 1 || s.Links[0].SpanContext.SpanID() != b.SpanContext().SpanID() {
			t.Fatalf("commit span parent %v links %v", s.Parent, s.Links)
		}
		return
	}
	t.Fatal("no commit span")
}
