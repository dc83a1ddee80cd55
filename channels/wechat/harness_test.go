package wechat_test

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
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
	"github.com/hotline12345/intake-gateway/channels/wechat"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
)

// The account of internal/testvectors/vectors.json. The helper that signs and encrypts with it is
// checked against the vectors in package wxtest.
var acct = wxtest.Account{
	Token:          "hotlinetoken2026",
	EncodingAESKey: "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
	AppID:          "wx5f2a1c3d4e5f6a7b",
	GhID:           "gh_0a1b2c3d4e5f",
}

const (
	vectorsPath = "../../internal/testvectors/vectors.json"
	openID      = "oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z"
	// requestTS is the timestamp WeChat puts in the query; the test clock is 10 s later.
	requestTS = "1764230400"
	nonce     = "1357924680"

	chPlain  = "wx-plain"  // mode plain, no encoding_aes_key
	chCompat = "wx-compat" // mode compatible
	chSafe   = "wx-safe"   // mode safe
)

var testNow = time.Unix(1764230410, 0)

func channelConfig(id, mode string, settings map[string]any) channels.Config {
	cfg := channels.Config{ID: id, Type: "wechat", AppID: acct.AppID, AppSecret: "secret", Token: acct.Token, Mode: mode, Settings: settings}
	if mode != "plain" {
		cfg.EncodingAESKey = acct.EncodingAESKey
	}
	return cfg
}

// fakeReceiver stands for the core's conversation mechanism. By default it answers
// "收到:<ExternalID>" to everything except unsubscribe, which gets no text.
type fakeReceiver struct {
	mu        sync.Mutex
	msgs      []app.Message
	events    []app.Event
	deadlines []time.Duration
	// answer replaces the default answer when set.
	answer func(ctx context.Context, externalID string) (app.Reply, error)
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
	srv  *httptest.Server
	recv *fakeReceiver
	reg  *prometheus.Registry

	mu sync.Mutex
	// handlerErrs are errors a handler returned to echo: the adapter must write every answer
	// itself, because the gateway renders returned errors as problem+json.
	handlerErrs []error
}

// newHarness serves the three test channels (plain, compatible, safe) on one real echo server.
// Extra settings apply to all three.
func newHarness(t testing.TB, settings map[string]any) *harness {
	t.Helper()
	recv := &fakeReceiver{}
	h := serve(t, recv, settings, nil)
	h.recv = recv
	return h
}

// serve is newHarness with any Receiver and logger.
func serve(t testing.TB, recv channels.Receiver, settings map[string]any, logger *slog.Logger) *harness {
	t.Helper()
	return serveDeps(t, channels.Deps{Receiver: recv, Logger: logger, Clock: intake.ClockFunc(func() time.Time { return testNow })}, settings)
}

// serveDeps is serve with the adapters' dependencies given whole (a store's nonces, a clock).
func serveDeps(t testing.TB, deps channels.Deps, settings map[string]any) *harness {
	t.Helper()
	h := &harness{reg: prometheus.NewRegistry()}
	deps.Metrics = h.reg
	e := echo.New()
	e.HideBanner = true
	e.HTTPErrorHandler = func(err error, c echo.Context) {
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
	for _, ch := range [][2]string{{chPlain, "plain"}, {chCompat, "compatible"}, {chSafe, "safe"}} {
		s := map[string]any{"account_id": acct.GhID}
		for k, v := range settings {
			s[k] = v
		}
		a, err := wechat.New(channelConfig(ch[0], ch[1], s), deps)
		if err != nil {
			t.Fatal(err)
		}
		a.Register(e)
	}
	h.srv = httptest.NewServer(e)
	t.Cleanup(func() {
		h.srv.Close()
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, err := range h.handlerErrs {
			t.Errorf("a handler returned an error to echo: %v", err)
		}
	})
	return h
}

func (h *harness) url(channel string) string { return h.srv.URL + "/hooks/wechat/" + channel }

type response struct {
	status      int
	body        string
	contentType string
}

func (h *harness) do(t testing.TB, req *http.Request) response {
	t.Helper()
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, body: string(b), contentType: resp.Header.Get("Content-Type")}
}

// nonces numbers the pushes of a test run: WeChat gives every push its own nonce, and a
// plaintext push's signature (over timestamp and nonce) is good for one body only.
var nonces atomic.Int64

// freshNonce is a nonce no other request of the test run has.
func freshNonce() string { return strconv.FormatInt(2_000_000_000+nonces.Add(1), 10) }

// send builds r for the channel with the helper and sends it. Timestamp defaults to requestTS,
// the nonce to a fresh one.
func (h *harness) send(t testing.TB, channel string, r wxtest.Request) response {
	t.Helper()
	if r.Timestamp == "" {
		r.Timestamp = requestTS
	}
	if r.Nonce == "" {
		r.Nonce = freshNonce()
	}
	req, err := acct.Build(h.url(channel), r)
	if err != nil {
		t.Fatal(err)
	}
	return h.do(t, req)
}

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

// passiveReply is the reply XML as WeChat reads it, decoded with encoding/xml (not with the
// code under test).
type passiveReply struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string
	FromUserName string
	CreateTime   int64
	MsgType      string
	Content      string
}

type envelope struct {
	XMLName      xml.Name `xml:"xml"`
	Encrypt      string
	MsgSignature string
	TimeStamp    string
	Nonce        string
}

// readReply decodes a passive reply; encrypted says whether it must be an encrypted envelope,
// which is then checked and opened as WeChat would.
func readReply(t testing.TB, resp response, encrypted bool) passiveReply {
	t.Helper()
	if resp.status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	if !strings.HasPrefix(resp.contentType, "text/xml") {
		t.Fatalf("reply content type %q", resp.contentType)
	}
	doc := []byte(resp.body)
	if encrypted {
		var env envelope
		if err := xml.Unmarshal(doc, &env); err != nil {
			t.Fatalf("envelope: %v: %s", err, resp.body)
		}
		if env.Encrypt == "" || env.TimeStamp == "" || env.Nonce == "" {
			t.Fatalf("incomplete envelope: %s", resp.body)
		}
		var err error
		if doc, err = acct.OpenReply(wxtest.EncryptedReply{Encrypt: env.Encrypt, MsgSignature: env.MsgSignature, TimeStamp: env.TimeStamp, Nonce: env.Nonce}); err != nil {
			t.Fatalf("open reply: %v", err)
		}
	} else if strings.Contains(resp.body, "<Encrypt>") {
		t.Fatalf("plaintext request got an encrypted reply: %s", resp.body)
	}
	var r passiveReply
	if err := xml.Unmarshal(doc, &r); err != nil {
		t.Fatalf("reply: %v: %s", err, doc)
	}
	return r
}

func loadVectors(t testing.TB) *wxtest.Vectors {
	t.Helper()
	v, err := wxtest.LoadVectors(vectorsPath)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not found: vector checks need the project checkout", vectorsPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}
