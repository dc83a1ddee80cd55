package console_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/console"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
	"github.com/hotline12345/intake-gateway/store/postgres"
	"github.com/hotline12345/intake-gateway/store/sqlite"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplates()
	os.Exit(code)
}

// cheap keeps the tests' password hashing fast; the encoded hash carries its parameters, so
// verification is as cheap.
var cheap = console.PasswordParams{MemoryKiB: 1024, Time: 1, Threads: 1}

const password = "correct horse battery"

// clock is a settable clock shared by the console under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type consoleStore interface {
	storetest.OperatorStore
	intake.Incidents
	intake.ChannelReport
}

type env struct {
	t     *testing.T
	store consoleStore
	srv   *httptest.Server
	clock *clock
	con   *console.Console
	// cases created by the fixture
	plain, other *intake.Case
}

func openSQLite(t *testing.T) consoleStore {
	s, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "intake.db"), Options: storetest.Options()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

func openPostgres(t *testing.T) consoleStore {
	url := pgtest.NewDatabase(t, "console", func(ctx context.Context, url string) error {
		pool, err := pgxpool.New(ctx, url)
		if err != nil {
			return err
		}
		defer pool.Close()
		return postgres.Migrate(ctx, pool, nil)
	})
	s, err := postgres.Open(context.Background(), postgres.Config{URL: url, Options: storetest.Options()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// bothStores runs a test on SQLite and PostgreSQL.
func bothStores(t *testing.T, opts console.Options, fn func(t *testing.T, e *env)) {
	for _, st := range []struct {
		name string
		open func(*testing.T) consoleStore
	}{{"sqlite", openSQLite}, {"postgres", openPostgres}} {
		t.Run(st.name, func(t *testing.T) { fn(t, newEnv(t, st.open(t), opts)) })
	}
}

func newEnv(t *testing.T, st consoleStore, opts console.Options) *env {
	t.Helper()
	ctx := context.Background()
	for _, u := range []struct {
		name string
		role intake.Role
	}{{"alice", intake.RoleAdmin}, {"olga", intake.RoleOperator}, {"vic", intake.RoleViewer}} {
		if _, err := console.AddUser(ctx, st, u.name, u.role, password, cheap, "test", intake.ActorCLI); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: time.Now()}
	opts.Clock, opts.Password = clk, cheap
	opts.Location = storetest.Shanghai
	opts.Categories = []console.Category{{Code: "water", Name: "供水"}, {Code: "roads", Name: "道路"}, {Code: "utilities", Name: "水电气"}}
	c, err := console.New(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(c)
	t.Cleanup(srv.Close)
	e := &env{t: t, store: st, srv: srv, clock: clk, con: c}

	nc := storetest.NewCase("wechat-main", "m1", time.Now().Add(-time.Hour))
	nc.Case.Channel = intake.ChannelWeChat
	nc.Case.Citizen = intake.Citizen{Name: "王女士", Phone: "+8613800138000", WeChatOpenID: "oAbCdEfGhIjKlMn"}
	nc.Case.Content.Text = "文化路12号门口路灯坏了，我的电话13912345678，请尽快修。"
	nc.Case.Location = &intake.Location{Address: "环翠区文化路12号3单元", District: "环翠区"}
	nc.Case.Classification.Category, nc.Case.Classification.RequestType = "roads", intake.RequestComplaint
	nc.ForwardTo = "crm"
	res, err := st.CreateCase(ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	e.plain = res.Case
	nc2 := storetest.NewCase("sms-main", "m2", time.Now().Add(-2*time.Hour))
	nc2.Case.Channel = intake.ChannelSMS
	nc2.Case.Classification.Category, nc2.Case.Classification.RequestType = "water", intake.RequestConsult
	nc2.Case.Classification.NeedsReview = true
	res, err = st.CreateCase(ctx, nc2)
	if err != nil {
		t.Fatal(err)
	}
	e.other = res.Case
	return e
}

// browser is one user agent: its own cookie jar, following redirects.
type browser struct {
	e      *env
	client *http.Client
}

func (e *env) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		e.t.Fatal(err)
	}
	// A copy: the server's Client is one shared value, and each browser has its own jar.
	client := *e.srv.Client()
	client.Jar = jar
	return &browser{e: e, client: &client}
}

type response struct {
	status int
	body   string
	url    string
	header http.Header
}

func (b *browser) do(req *http.Request) response {
	b.e.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, body: string(body), url: resp.Request.URL.Path, header: resp.Header}
}

func (b *browser) get(path string) response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	if err != nil {
		b.e.t.Fatal(err)
	}
	return b.do(req)
}

func (b *browser) post(path string, form url.Values, header ...string) response {
	b.e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return b.do(req)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%s", body)
	}
	return m[1]
}

// login signs in and returns the page it lands on.
func (b *browser) login(name, pw string) response {
	b.e.t.Helper()
	page := b.get("/console/login")
	return b.post("/console/login", url.Values{"csrf": {csrfOf(b.e.t, page.body)}, "name": {name}, "password": {pw}})
}

func (b *browser) mustLogin(name string) string {
	b.e.t.Helper()
	r := b.login(name, password)
	if r.status != http.StatusOK || r.url != "/console/" {
		b.e.t.Fatalf("login as %s: %d at %s\n%s", name, r.status, r.url, r.body)
	}
	return csrfOf(b.e.t, r.body)
}

func (e *env) audit(action string) []intake.AuditEntry {
	e.t.Helper()
	page, err := e.store.ListAudit(context.Background(), intake.AuditFilter{Action: action})
	if err != nil {
		e.t.Fatal(err)
	}
	return page.Entries
}
