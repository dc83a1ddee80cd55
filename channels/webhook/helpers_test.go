package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/internal/app"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/webhook"
	"github.com/hotline12345/intake-gateway/config"
)

const (
	cityAppSecret = "c1tyApp-webhook-secret-2026"
	countySecret  = "county-social-secret-0042"
)

// exampleEnv is the environment the example configurations read their secrets from.
var exampleEnv = []string{"CITYAPP_WEBHOOK_SECRET=" + cityAppSecret, "COUNTY_SOCIAL_SECRET=" + countySecret}

// loadExample loads one of configs/webhooks/*.yaml as the gateway would and returns its only
// channel.
func loadExample(t testing.TB, name string) channels.Config {
	t.Helper()
	cfg, err := config.Load("../../configs/webhooks/"+name, exampleEnv)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	if len(cfg.Channels) != 1 {
		t.Fatalf("%s: %d channels", name, len(cfg.Channels))
	}
	return cfg.Channels[0]
}

// hmacHex is the test's own HMAC-SHA256, hex.
func hmacHex(secret, msg string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// sortedSHA1 is the test's own sorted-SHA-1 (the Weibo wiki scheme), checked against the wiki's
// published vector in TestSortedSHA1WikiVector.
func sortedSHA1(parts ...string) string {
	v := append([]string(nil), parts...)
	sort.Strings(v)
	return fmt.Sprintf("%x", sha1.Sum([]byte(strings.Join(v, ""))))
}

// fakeReceiver stands for the core's conversation mechanism: it records messages and answers
// with a case numbered after the external id, unless answer is set.
type fakeReceiver struct {
	mu        sync.Mutex
	msgs      []app.Message
	deadlines []time.Duration
	answer    func(ctx context.Context, m app.Message) (app.Reply, error)
}

func (r *fakeReceiver) Receive(ctx context.Context, m app.Message) (app.Reply, error) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	if d, ok := ctx.Deadline(); ok {
		r.deadlines = append(r.deadlines, time.Until(d))
	}
	answer := r.answer
	r.mu.Unlock()
	if answer != nil {
		return answer(ctx, m)
	}
	return app.Reply{
		Text:    "您的诉求已受理，工单编号：WH2026112700042，查询码：123456。",
		Outcome: app.OutcomeCreated,
		Case:    &intake.Case{CaseNo: "WH2026112700042", QueryCode: "123456"},
	}, nil
}

func (r *fakeReceiver) Event(context.Context, app.Event) (app.Reply, error) {
	return app.Reply{}, errors.New("webhook channels send no events")
}

func (r *fakeReceiver) calls() []app.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]app.Message(nil), r.msgs...)
}

func (r *fakeReceiver) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs, r.deadlines = nil, nil
}

type harness struct {
	e    *echo.Echo
	recv *fakeReceiver
	reg  *prometheus.Registry
	path string

	mu          sync.Mutex
	handlerErrs []error
}

func serve(t testing.TB, cfg channels.Config, now time.Time, logger *slog.Logger) *harness {
	t.Helper()
	h := &harness{reg: prometheus.NewRegistry(), recv: &fakeReceiver{}, path: "/hooks/webhook/" + cfg.ID}
	h.e = echo.New()
	h.e.HTTPErrorHandler = func(err error, c echo.Context) {
		var he *echo.HTTPError
		if errors.As(err, &he) && (he.Code == http.StatusNotFound || he.Code == http.StatusMethodNotAllowed) {
			_ = c.String(he.Code, http.StatusText(he.Code))
			return
		}
		h.mu.Lock()
		h.handlerErrs = append(h.handlerErrs, err)
		h.mu.Unlock()
		_ = c.String(http.StatusTeapot, "handler returned an error")
	}
	a, err := webhook.New(cfg, channels.Deps{Receiver: h.recv, Logger: logger, Clock: intake.ClockFunc(func() time.Time { return now }), Metrics: h.reg})
	if err != nil {
		t.Fatal(err)
	}
	a.Register(h.e)
	t.Cleanup(func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, err := range h.handlerErrs {
			t.Errorf("a handler returned an error to echo: %v", err)
		}
	})
	return h
}

func (h *harness) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.e.ServeHTTP(rec, req)
	return rec
}

func (h *harness) counter(t testing.TB, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if want, ok := labels[lp.GetName()]; ok && want != lp.GetValue() {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
