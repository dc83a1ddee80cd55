package open311_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/api"
	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/coretest"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
	"github.com/hotline12345/intake-gateway/internal/ratelimit"
	"github.com/hotline12345/intake-gateway/internal/replies"
	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/open311"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplates()
	os.Exit(code)
}

// The API keys of the tests: a reporting app that may submit, and a reader that may not.
const (
	fmsKey    = "fms-test-key"
	readerKey = "reader-test-key"
)

func keyHash(k string) string {
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:])
}

// cst is the hotline's zone in the tests.
var cst = time.FixedZone("CST", 8*3600)

// t0 is a Friday morning in the hotline's zone.
var t0 = time.Date(2026, 12, 4, 9, 30, 0, 0, cst)

// env is the endpoint in front of the real core on one store.
type env struct {
	core   *coretest.Core
	clock  *coretest.Clock
	svc    *app.Intake
	events *app.StatusEvents
	srv    *httptest.Server
}

var builtinRules = func() normalize.Options {
	classifier, err := normalize.NewClassifier(normalize.Sources{
		Taxonomy: configs.Taxonomy, Emergency: configs.Emergency, OutOfScope: configs.OutOfScope,
		Gazetteer: configs.Gazetteer, Referrals: configs.Referrals,
	})
	if err != nil {
		panic(err)
	}
	cal, err := normalize.LoadCalendar(configs.Holidays, cst)
	if err != nil {
		panic(err)
	}
	deadlines, err := normalize.ParseDeadlineRules(configs.Deadlines)
	if err != nil {
		panic(err)
	}
	return normalize.Options{PhoneRegion: "CN", Classifier: classifier, Calendar: cal, Deadlines: deadlines}
}()

// services is the service list the gateway builds: the taxonomy's categories with the built-in
// catalog.
func services(t testing.TB) []open311.Service {
	t.Helper()
	catalog, err := open311.ParseCatalog(configs.Open311)
	if err != nil {
		t.Fatal(err)
	}
	var cats []open311.Category
	for _, c := range builtinRules.Classifier.Rules().Taxonomy.Categories {
		var kw []string
		if len(c.Terms) > 0 {
			kw = c.Terms[0].Phrases[:min(3, len(c.Terms[0].Phrases))]
		}
		cats = append(cats, open311.Category{Code: c.Code, Name: c.Name, Keywords: kw})
	}
	list, err := open311.Services(cats, catalog)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func newEnv(t *testing.T, kind string) *env { return newEnvLimited(t, kind, nil) }

// newEnvLimited is newEnv with a rate limit per API key.
func newEnvLimited(t *testing.T, kind string, perKey *ratelimit.Keyed) *env {
	t.Helper()
	return newEnvWith(t, kind, perKey, false)
}

func newEnvWith(t *testing.T, kind string, perKey *ratelimit.Keyed, publicReads bool) *env {
	t.Helper()
	clock := coretest.NewClock(t0.UTC())
	core := coretest.New(t, kind, clock, nil)
	svc := app.NewIntake(core.Store, clock, app.IntakeOptions{MaxTextChars: 10000, MaxFutureSkew: 5 * time.Minute, Normalize: builtinRules}, nil)
	texts, err := replies.Parse(configs.Messages)
	if err != nil {
		t.Fatal(err)
	}
	keys := api.NewAuthenticator([]api.APIKey{
		{Name: "fms", SHA256: keyHash(fmsKey), Scopes: []string{api.ScopeSubmit}},
		{Name: "reader", SHA256: keyHash(readerKey), Scopes: []string{api.ScopeRead}},
	}).WithRateLimit(perKey)
	h, err := open311.New(open311.Deps{
		Store: core.Store, Submitter: svc, Keys: keys, Services: services(t),
		Texts: func() *replies.Replies { return texts }, Clock: clock,
	}, open311.Options{Location: cst, PublicBaseURL: "https://12345.example.gov.cn", Contact: "12345热线 开放接口",
		KeyService: "https://12345.example.gov.cn/open311-key", Jurisdiction: "12345.example.gov.cn", Changeset: t0,
		PublicReads: publicReads})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{core: core, clock: clock, svc: svc, srv: srv,
		events: app.NewStatusEvents(core.Store, nil, clock, nil, 5*time.Minute)}
}

// response is an HTTP answer read whole.
type response struct {
	status int
	ctype  string
	body   string
}

func (e *env) do(t *testing.T, method, path, ctype, body string) response {
	t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: res.StatusCode, ctype: res.Header.Get("Content-Type"), body: string(b)}
}

func (e *env) get(t *testing.T, path string) response { return e.do(t, http.MethodGet, path, "", "") }

// read is get with the filing client's api_key added, as reads need it unless they are public.
func (e *env) read(t *testing.T, path string) response { return e.readAs(t, fmsKey, path) }

func (e *env) readAs(t *testing.T, key, path string) response {
	t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return e.get(t, path+sep+url.Values{"api_key": {key}}.Encode())
}

func (e *env) postForm(t *testing.T, path, form string) response {
	return e.do(t, http.MethodPost, path, "application/x-www-form-urlencoded", form)
}

// cases lists every stored case.
func (e *env) cases(t *testing.T) []*intake.Case { return e.core.Cases(t) }

// report records a case system's event as the REST API would.
func (e *env) report(t *testing.T, caseNo, id, typ, dept, msg string, at time.Time) {
	t.Helper()
	if _, err := e.events.Record(context.Background(), caseNo, app.StatusReport{
		EventID: id, Type: typ, At: at, Department: dept, Message: msg, Source: "case-system",
	}); err != nil {
		t.Fatalf("event %s: %v", id, err)
	}
}
