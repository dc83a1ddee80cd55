package twilio_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hotline12345/intake-gateway/internal/app"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/twilio"
)

// The auth token of the shared reference vectors.
const testToken = "6f2c1e8b9d0a4c3e7b5f1a2d8c9e0b4f"

const publicBase = "https://hotline.example.gov.cn"

// sign is the test suite's own X-Twilio-Signature, written from Twilio's description and not
// from the package: the URL, then for each name in sorted order each of its values in sorted
// order as name+value, HMAC-SHA1 with the auth token, base64. It is checked against the
// twilio-node vectors in TestVectorsSelfCheck.
func sign(token, rawURL string, params url.Values) string {
	var b strings.Builder
	b.WriteString(rawURL)
	names := make([]string, 0, len(params))
	for k := range params {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		vals := slices.Clone(params[k])
		slices.Sort(vals)
		for _, v := range vals {
			b.WriteString(k)
			b.WriteString(v)
		}
	}
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// signBody signs a raw form body for rawURL.
func signBody(t testing.TB, token, rawURL, body string) string {
	t.Helper()
	p, err := url.ParseQuery(body)
	if err != nil {
		t.Fatalf("test body does not parse: %v", err)
	}
	return sign(token, rawURL, p)
}

// vector is one entry of vectors.json's "twilio" list.
type vector struct {
	Case      string         `json:"case"`
	AuthToken string         `json:"auth_token"`
	URL       string         `json:"url"`
	Params    map[string]any `json:"params"`
	Body      string         `json:"body"`
	BodySHA   string         `json:"body_sha256"`
	Signature string         `json:"signature"`
}

func (v vector) values() url.Values {
	out := url.Values{}
	for k, val := range v.Params {
		switch t := val.(type) {
		case string:
			out.Add(k, t)
		case []any:
			for _, item := range t {
				out.Add(k, item.(string))
			}
		}
	}
	return out
}

// loadVectors reads the shared reference vectors (computed with twilio-node); the test is
// skipped when the file is not there.
func loadVectors(t testing.TB) map[string]vector {
	t.Helper()
	path := filepath.Join("..", "..", "internal", "testvectors", "vectors.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("reference vectors not available: %v", err)
	}
	var doc struct {
		Twilio []vector `json:"twilio"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("vectors.json: %v", err)
	}
	out := map[string]vector{}
	for _, v := range doc.Twilio {
		out[v.Case] = v
	}
	for _, name := range []string{vecForm, vecPort, vecRepeated, vecJSON, vecReadme} {
		if _, ok := out[name]; !ok {
			t.Fatalf("vectors.json lacks twilio case %q", name)
		}
	}
	return out
}

const (
	vecForm     = "form body"
	vecPort     = "url with explicit port"
	vecRepeated = "repeated key Tag=b&Tag=a (values sorted, each key+value appended)"
	vecJSON     = "JSON body with bodySHA256"
	vecReadme   = "published README vector"
)

// fakeReceiver stands in for the shared conversation layer.
type fakeReceiver struct {
	mu    sync.Mutex
	msgs  []app.Message
	reply app.Reply
	err   error
	fn    func(ctx context.Context, msg app.Message) (app.Reply, error)
}

func (f *fakeReceiver) Receive(ctx context.Context, msg app.Message) (app.Reply, error) {
	f.mu.Lock()
	f.msgs = append(f.msgs, msg)
	fn, reply, err := f.fn, f.reply, f.err
	f.mu.Unlock()
	if fn != nil {
		return fn(ctx, msg)
	}
	return reply, err
}

func (f *fakeReceiver) Event(context.Context, app.Event) (app.Reply, error) {
	return app.Reply{}, nil
}

func (f *fakeReceiver) reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msgs = nil
}

func (f *fakeReceiver) received() []app.Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.msgs)
}

// fakeRecorder records delivery statuses.
type fakeRecorder struct {
	mu   sync.Mutex
	got  [][4]string
	fail error
}

func (f *fakeRecorder) RecordMessageStatus(_ context.Context, channelID, messageSID, status, errorCode string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, [4]string{channelID, messageSID, status, errorCode})
	return f.fail
}

type setup struct {
	channelID string
	settings  map[string]any
	server    serverCfg
	receiver  *fakeReceiver
	opts      []twilio.Option
	// other replaces the fake receiver (benchmarks).
	other channels.Receiver
	// noBase leaves server.public_base_url unset (URL from proxy headers or the request).
	noBase bool
}

func channelConfig(settings map[string]any) channels.Config {
	return channels.Config{
		ID: "sms-main", Type: "twilio", AccountSID: "AC0123456789abcdef0123456789abcdef", AuthToken: testToken,
		From: "+15005550006", Settings: settings,
	}
}

func depsFor(s setup) channels.Deps {
	d := channels.Deps{PublicBaseURL: s.server.PublicBaseURL, TrustedProxies: s.server.TrustedProxies, Metrics: prometheus.NewRegistry()}
	if s.other != nil {
		d.Receiver = s.other
	} else if s.receiver != nil {
		d.Receiver = s.receiver
	}
	return d
}

// newServer builds an echo server with one Twilio channel. Defaults: channel sms-main, the
// public base URL of the reference vectors, a receiver answering "已受理".
func newServer(t testing.TB, s setup) (*echo.Echo, *fakeReceiver) {
	t.Helper()
	if s.receiver == nil {
		s.receiver = &fakeReceiver{reply: app.Reply{Text: "已受理", Outcome: app.OutcomeCreated}}
	}
	if s.server.PublicBaseURL == "" && s.server.TrustedProxies == nil && !s.noBase {
		s.server.PublicBaseURL = publicBase
	}
	cfg := channelConfig(s.settings)
	if s.channelID != "" {
		cfg.ID = s.channelID
	}
	a, err := twilio.New(cfg, depsFor(s), s.opts...)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	a.Register(e)
	return e, s.receiver
}

// post sends a webhook as Twilio would: form body, signature header (omitted when sig is ""),
// arriving at Host gateway:8080 from peer 192.0.2.10 unless mods change it.
func post(e *echo.Echo, target, body, sig string, mods ...func(*http.Request)) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	req.Host = "gateway:8080"
	req.RemoteAddr = "192.0.2.10:40000"
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("I-Twilio-Idempotency-Token", "d1b3c7e8-0000-4000-8000-000000000001")
	if sig != "" {
		req.Header.Set(twilio.SignatureHeader, sig)
	}
	for _, m := range mods {
		m(req)
	}
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	return rec
}

// serverCfg is the server side of the gateway's configuration that the adapter sees.
type serverCfg struct {
	PublicBaseURL  string
	TrustedProxies []string
}

func serverWithBase() serverCfg { return serverCfg{PublicBaseURL: publicBase} }

func newEcho(a *twilio.Adapter) *echo.Echo {
	e := echo.New()
	a.Register(e)
	return e
}

// benchReceiver answers at once without keeping anything.
type benchReceiver struct{}

func (benchReceiver) Receive(context.Context, app.Message) (app.Reply, error) {
	return app.Reply{Text: "您的诉求已受理，工单编号WH2026112700042，查询码482913。", Outcome: app.OutcomeCreated}, nil
}

func (benchReceiver) Event(context.Context, app.Event) (app.Reply, error) {
	return app.Reply{}, nil
}
