package weibo_test

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/internal/app"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/weibo"
)

const (
	vectorsPath = "../../internal/testvectors/vectors.json"

	channelID  = "weibo-main"
	appSecret  = "9f3c2a7b5e1d4c8a"
	accountUID = "1902538057"
	senderUID  = "2489518277"
	// requestTS is the timestamp (milliseconds) Weibo puts in the query; the test clock is 10 s
	// later.
	requestTS = "1764230400000"
	nonce     = "57155157"
)

var testNow = time.UnixMilli(1764230410000)

// sign is this test's own implementation of the Weibo signature, written from the wiki's
// description and checked against its published example in TestSignatureVector: the SHA-1 of
// the three values sorted and concatenated, in lowercase hex.
func sign(secret, timestamp, nonce string) string {
	v := []string{secret, timestamp, nonce}
	sort.Strings(v)
	return fmt.Sprintf("%x", sha1.Sum([]byte(v[0]+v[1]+v[2])))
}

type weiboVector struct {
	Case      string `json:"case"`
	AppSecret string `json:"app_secret"`
	Timestamp string `json:"timestamp"`
	Nonce     string `json:"nonce"`
	Signature string `json:"signature"`
}

func loadVectors(t testing.TB) []weiboVector {
	t.Helper()
	b, err := os.ReadFile(vectorsPath)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("%s not found: vector checks need the project checkout", vectorsPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Weibo []weiboVector `json:"weibo"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Weibo) == 0 {
		t.Fatal("no weibo vectors")
	}
	return f.Weibo
}

func channelConfig(settings map[string]any) channels.Config {
	return channels.Config{ID: channelID, Type: "weibo", AppKey: "3456789012", AppSecret: appSecret, AccountUID: accountUID, Settings: settings}
}

// fakeReceiver stands for the core's conversation mechanism. By default it answers
// "收到:<ExternalID>" to everything except unsubscribe, which gets no text.
type fakeReceiver struct {
	mu        sync.Mutex
	msgs      []app.Message
	events    []app.Event
	deadlines []time.Duration
	answer    func(ctx context.Context, externalID string) (app.Reply, error)
}

func (r *fakeReceiver) record(ctx context.Context) {
	if d, ok := ctx.Deadline(); ok {
		r.deadlines = append(r.deadlines, time.Until(d))
	} else {
		r.deadlines = append(r.deadlines, -1)
	}
}

func (r *fakeReceiver) reply(ctx context.Context, id string, kind app.EventKind) (app.Reply, error) {
	if r.answer != nil {
		return r.answer(ctx, id)
	}
	if kind == app.EventUnsubscribe {
		return app.Reply{Outcome: app.OutcomeIgnored}, nil
	}
	return app.Reply{Text: "收到:" + id, Outcome: app.OutcomeCreated}, nil
}

func (r *fakeReceiver) Receive(ctx context.Context, m app.Message) (app.Reply, error) {
	r.mu.Lock()
	r.msgs = append(r.msgs, m)
	r.record(ctx)
	r.mu.Unlock()
	return r.reply(ctx, m.Submission.ExternalID, "")
}

func (r *fakeReceiver) Event(ctx context.Context, ev app.Event) (app.Reply, error) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.record(ctx)
	r.mu.Unlock()
	return r.reply(ctx, ev.ExternalID, ev.Kind)
}

func (r *fakeReceiver) calls() ([]app.Message, []app.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]app.Message(nil), r.msgs...), append([]app.Event(nil), r.events...)
}

func (r *fakeReceiver) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs, r.events, r.deadlines = nil, nil, nil
}

type harness struct {
	e    *echo.Echo
	recv *fakeReceiver
	reg  *prometheus.Registry

	mu          sync.Mutex
	handlerErrs []error
}

// newHarness serves the test channel on an echo instance whose error handler records any error
// a handler returns: the adapter must write every answer itself, because the gateway renders
// returned errors as problem+json.
func newHarness(t testing.TB, settings map[string]any) *harness {
	t.Helper()
	return serve(t, &fakeReceiver{}, settings, nil)
}

func serve(t testing.TB, recv *fakeReceiver, settings map[string]any, logger *slog.Logger) *harness {
	t.Helper()
	return serveConfig(t, recv, channelConfig(settings), testNow, logger)
}

func serveConfig(t testing.TB, recv *fakeReceiver, cfg channels.Config, now time.Time, logger *slog.Logger) *harness {
	t.Helper()
	h := &harness{reg: prometheus.NewRegistry(), recv: recv}
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
	deps := channels.Deps{Receiver: recv, Logger: logger, Clock: intake.ClockFunc(func() time.Time { return now }), Metrics: h.reg}
	a, err := weibo.New(cfg, deps)
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

// nonces numbers the requests of a test run: Weibo gives every push its own nonce, and a
// push's signature (over timestamp and nonce) is good for one body only.
var nonces atomic.Int64

// freshNonce is a nonce no other request of the test run has.
func freshNonce() string { return strconv.FormatInt(60_000_000+nonces.Add(1), 10) }

// request is one request as Weibo would send it. Query values override the signed defaults;
// Delete removes query parameters.
type request struct {
	Method    string
	Body      string
	Timestamp string
	Nonce     string
	Secret    string
	Query     map[string]string
	Delete    []string
}

func (r request) build() *http.Request {
	if r.Method == "" {
		r.Method = http.MethodPost
	}
	if r.Timestamp == "" {
		r.Timestamp = requestTS
	}
	if r.Nonce == "" {
		r.Nonce = freshNonce()
	}
	if r.Secret == "" {
		r.Secret = appSecret
	}
	q := url.Values{"timestamp": {r.Timestamp}, "nonce": {r.Nonce}, "signature": {sign(r.Secret, r.Timestamp, r.Nonce)}}
	if r.Method == http.MethodGet {
		q.Set("echostr", "8734567219374562")
	}
	for k, v := range r.Query {
		q.Set(k, v)
	}
	for _, k := range r.Delete {
		q.Del(k)
	}
	var body io.Reader
	if r.Method == http.MethodPost {
		body = strings.NewReader(r.Body)
	}
	req := httptest.NewRequest(r.Method, "/hooks/weibo/"+channelID+"?"+q.Encode(), body)
	if r.Method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func (h *harness) do(req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.e.ServeHTTP(rec, req)
	return rec
}

func (h *harness) send(r request) *httptest.ResponseRecorder { return h.do(r.build()) }

// counter reads one sample of a counter from the registry (0 when absent).
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
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// passive is a passive reply as Weibo reads it, with data decoded (url-decoded, then JSON) by the
// standard library, not by the code under test.
type passive struct {
	Result     bool   `json:"result"`
	SenderID   string `json:"sender_id"`
	ReceiverID string `json:"receiver_id"`
	Type       string `json:"type"`
	Data       string `json:"data"`
	text       string
}

func readPassive(t testing.TB, rec *httptest.ResponseRecorder) passive {
	t.Helper()
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("reply content type %q", ct)
	}
	var p passive
	dec := json.NewDecoder(strings.NewReader(rec.Body.String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("reply: %v: %s", err, rec.Body.String())
	}
	plain, err := url.QueryUnescape(p.Data)
	if err != nil {
		t.Fatalf("data is not url-encoded: %v", err)
	}
	var d struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal([]byte(plain), &d); err != nil {
		t.Fatalf("data is not JSON: %v: %s", err, plain)
	}
	p.text = d.Text
	return p
}

// body builds a push in the field order and format of the wiki's examples.
func body(typ, text, data string) string {
	return `{"type":"` + typ + `","receiver_id":` + accountUID + `,"sender_id":` + senderUID +
		`,"created_at":"Thu Nov 27 16:00:00 +0800 2025","text":"` + text + `","data":` + data + `}`
}
