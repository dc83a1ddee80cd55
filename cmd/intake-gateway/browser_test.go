package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
	"github.com/hotline12345/intake-gateway/forward"
	"github.com/hotline12345/intake-gateway/internal/browsertest"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

// The console's browser tests drive the whole gateway, assembled from a config file as serve
// does, in headless Chromium: the WeChat webhook, the forwarding worker and the console are the
// real ones, and the case system is a fake that checks every delivery's signature.
// Screenshots of every page go to $CONSOLE_SCREENSHOTS (default: the test's temporary
// directory); `CONSOLE_SCREENSHOTS=docs/screenshots` regenerates the README's.

func TestBrowserConsoleSQLite(t *testing.T) { runBrowserConsole(t, "") }

func TestBrowserConsolePostgres(t *testing.T) {
	pgtest.Require(t)
	runBrowserConsole(t, pgtest.NewDatabase(t, "", nil))
}

const (
	browserAdmin    = "chen"
	browserPassword = "browser test password"
	browserCSSecret = "browser-cs-secret"
)

// caseSystemMode is what the fake case system does with a delivery.
type caseSystemMode int

const (
	caseSystemUp   caseSystemMode = iota // 201
	caseSystemDown                       // 500
	caseSystemHold                       // wait until released, then 201
)

// browserCaseSystem is the hotline's case system as the gateway sees it: it refuses a delivery
// whose X-Intake-Signature is wrong and records each one it accepted.
type browserCaseSystem struct {
	t   *testing.T
	srv *httptest.Server

	mu       sync.Mutex
	mode     caseSystemMode
	release  chan struct{}
	accepted []caseSystemDelivery
	refused  int // answered 500 on purpose
	badSigs  int
}

type caseSystemDelivery struct {
	Event string
	Case  struct {
		CaseNo         string `json:"case_no"`
		Classification struct {
			Category    string `json:"category"`
			RequestType string `json:"request_type"`
			Source      string `json:"source"`
		} `json:"classification"`
	}
}

func newBrowserCaseSystem(t *testing.T) *browserCaseSystem {
	f := &browserCaseSystem{t: t, release: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *browserCaseSystem) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	sig := r.Header.Get("X-Intake-Signature")
	ts, _, _ := strings.Cut(strings.TrimPrefix(sig, "t="), ",")
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || forward.Sign(browserCSSecret, time.Unix(unix, 0), body) != sig {
		f.mu.Lock()
		f.badSigs++
		f.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	mode, release := f.mode, f.release
	if mode == caseSystemDown {
		f.refused++
	}
	f.mu.Unlock()
	switch mode {
	case caseSystemDown:
		http.Error(w, "case system unavailable", http.StatusInternalServerError)
		return
	case caseSystemHold:
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
	}
	d := caseSystemDelivery{Event: r.Header.Get("X-Intake-Event")}
	if err := json.Unmarshal(body, &d.Case); err != nil {
		http.Error(w, "not a case record", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.accepted = append(f.accepted, d)
	f.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, `{"case_ref":"CS-1"}`)
}

func (f *browserCaseSystem) setMode(m caseSystemMode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mode == caseSystemHold && m != caseSystemHold {
		close(f.release)
		f.release = make(chan struct{})
	}
	f.mode = m
}

// deliveries are the accepted deliveries of event for caseNo.
func (f *browserCaseSystem) deliveries(event, caseNo string) []caseSystemDelivery {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []caseSystemDelivery
	for _, d := range f.accepted {
		if d.Event == event && d.Case.CaseNo == caseNo {
			out = append(out, d)
		}
	}
	return out
}

func (f *browserCaseSystem) badSignatures() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.badSigs
}

func (f *browserCaseSystem) refusedCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refused
}

// browserGateway assembles the gateway on dbURL (empty: SQLite) with a safe-mode WeChat account,
// the fake case system and forwarding that gives up after two quick tries; an admin is made
// with `user add` as an operator would. It serves https, as behind the reverse proxy, since the
// console's cookies are Secure.
func browserGateway(t *testing.T, dbURL string, cs *browserCaseSystem) *httptest.Server {
	t.Helper()
	wxAPI := wxtest.NewFakeAPI(e2eAccount.AppID, "secret")
	t.Cleanup(wxAPI.Close)
	dir := t.TempDir()
	yaml := fmt.Sprintf(`database: { url: %q, sqlite_path: %q, attachments_dir: %q }
log: { level: error }
server: { request_timeout: 10s }
api_keys: [{ name: crm, sha256: "%s", scopes: [submit, read] }]
case_systems: [{ name: default, url: %q, secret: %s }]
forwarding: { max_attempts: 2, retry_min: 50ms, retry_max: 100ms, breaker_threshold: 1000 }
console: { live_interval: 500ms }
channels:
  - { id: wechat-main, type: wechat, app_id: %s, app_secret: secret, token: %s, encoding_aes_key: %s, mode: safe, account_id: %s, api_base_url: %q }
`, dbURL, filepath.Join(dir, "browser.db"), filepath.Join(dir, "att"), sha(e2eKey), cs.srv.URL, browserCSSecret,
		e2eAccount.AppID, e2eAccount.Token, e2eAccount.EncodingAESKey, e2eAccount.GhID, wxAPI.URL)
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := runWithStdin(t, browserPassword+"\n", "user", "add", browserAdmin, "--role", "admin", "--config", path); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	a := assembleYAML(t, dir, yaml)
	srv := httptest.NewTLSServer(a.handler)
	t.Cleanup(func() {
		if a.console != nil {
			a.console.Close() // ends the dashboard's live stream, which Close would wait for
		}
		srv.Close()
		a.Close()
	})
	return srv
}

// pushWeChat posts a text message as WeChat's servers do in safe mode: the XML encrypted with
// the account's EncodingAESKey, signed with its token; it returns the decrypted reply's text.
func pushWeChat(t *testing.T, client *http.Client, base, openid, msgID, text string) string {
	t.Helper()
	req, err := e2eAccount.Build(base+"/hooks/wechat/wechat-main", wxtest.Request{
		Timestamp: strconv.FormatInt(time.Now().Unix(), 10), Nonce: msgID, Body: textMsg(openid, msgID, text), Safe: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("WeChat push: %v", err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var env wechatReply
	if res.StatusCode != http.StatusOK || xml.Unmarshal(raw, &env) != nil || env.Encrypt == "" {
		t.Fatalf("WeChat push: %d %s", res.StatusCode, raw)
	}
	plain, err := e2eAccount.OpenReply(wxtest.EncryptedReply{Encrypt: env.Encrypt, MsgSignature: env.MsgSignature, TimeStamp: env.TimeStamp, Nonce: env.Nonce})
	if err != nil {
		t.Fatalf("the reply does not open: %v", err)
	}
	var msg struct {
		Content string `xml:"Content"`
	}
	if err := xml.Unmarshal(plain, &msg); err != nil {
		t.Fatal(err)
	}
	return msg.Content
}

var caseNoInReply = regexp.MustCompile(`WH\d{13}`)

// caseJSON reads a case through the REST API.
func caseJSON(t *testing.T, client *http.Client, base, caseNo string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+"/v1/cases/"+caseNo, nil)
	req.Header.Set("Authorization", "Bearer "+e2eKey)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&m) != nil {
		t.Fatalf("GET /v1/cases/%s: %d", caseNo, res.StatusCode)
	}
	return m
}

func runBrowserConsole(t *testing.T, dbURL string) {
	cs := newBrowserCaseSystem(t)
	srv := browserGateway(t, dbURL, cs)
	client := srv.Client()
	b := browsertest.Start(t) // after the gateway: its cleanup (the browser's end) runs first
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	// reload navigates to path until main's HTML satisfies ok.
	reload := func(what, path string, ok func(main string) bool) string {
		t.Helper()
		var html string
		b.WaitFor(what, func(ctx context.Context) (bool, string, error) {
			if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+path)); err != nil {
				return false, "", err
			}
			h, err := chromedp.Run(ctx, chromedp.OuterHTML(css("main")))
			html = h
			return err == nil && ok(h), "", err
		})
		return html
	}

	// Sign in as the admin `user add` made.
	b.Step("open the console", chromedp.Navigate(srv.URL+"/console/"), chromedp.WaitVisible(css(`input[name="name"]`)))
	b.Screenshot("login")
	b.Step("sign in", chromedp.SendKeys(css(`input[name="name"]`), browserAdmin),
		chromedp.SendKeys(css(`input[name="password"]`), browserPassword), chromedp.Click(css(`form.login button`)),
		chromedp.WaitVisible(css("#today")))
	b.Step("the dashboard's live count connects", chromedp.WaitVisible(css(`#today[data-live="on"]`)))
	before := b.Number("#today")

	// A citizen writes to the WeChat account; the dashboard counts it without a reload.
	const openid, phone = "oBrowserCitizen0001", "13800138000"
	reply := pushWeChat(t, client, srv.URL, openid, "7001", "环翠区文化路的路灯坏了一周了，晚上很黑，请尽快修理。联系电话"+phone)
	caseNo := caseNoInReply.FindString(reply)
	if caseNo == "" {
		t.Fatalf("the WeChat reply names no case: %q", reply)
	}
	want := fmt.Sprint(before + 1)
	b.WaitFor("today's count rises from "+fmt.Sprint(before)+" to "+want+" without a reload", func(ctx context.Context) (bool, string, error) {
		now, err := chromedp.Run(ctx, chromedp.Text(css("#today")))
		return strings.TrimSpace(now) == want, now, err
	})
	b.Screenshot("dashboard-live")
	if h := b.HTML("main"); !strings.Contains(h, "运行概况") {
		t.Fatal("the dashboard has no heading")
	}

	// The case list masks the citizen.
	b.Step("open the cases", chromedp.Navigate(srv.URL+"/console/cases"), chromedp.WaitVisible(css("#cases")))
	b.Screenshot("cases")
	list := b.HTML("main")
	if !strings.Contains(list, caseNo) {
		t.Fatalf("the case list lacks %s", caseNo)
	}
	for _, secret := range []string{phone, openid} {
		if strings.Contains(list, secret) {
			t.Fatalf("the case list shows %s unmasked", secret)
		}
	}

	// The case page, masked; the reveal shows the full values and is audited.
	b.Step("open the case from the list", chromedp.Click(css(`a[href="/console/cases/`+caseNo+`"]`)), chromedp.WaitVisible(css("#reveal")))
	b.Screenshot("case")
	masked := b.HTML("main")
	if strings.Contains(masked, phone) || strings.Contains(masked, openid) || !strings.Contains(masked, "138****8000") {
		t.Fatal("the case page does not mask the phone number and the openid")
	}
	b.Step("reveal", chromedp.Click(css("#reveal")), chromedp.WaitVisible(css("h2 .error")))
	b.Screenshot("case-revealed")
	// The number is in the message's text (WeChat gives no phone number); the reveal unmasks it.
	if c, txt := b.HTML("#citizen"), b.Text("#text"); !strings.Contains(txt, phone) || !strings.Contains(c, openid) {
		t.Fatalf("the reveal does not show the phone number and the openid:\n%s\n%s", c, txt)
	}
	b.Step("open the audit log", chromedp.Navigate(srv.URL+"/console/audit?action=case.reveal"), chromedp.WaitVisible(css("#audit")))
	b.Screenshot("audit")
	rows := Value(b, "read the audit rows", chromedp.Evaluate[[][]string](
		`[...document.querySelectorAll("#audit tr")].slice(1).map(r => [...r.cells].map(c => c.textContent.trim()))`))
	found := false
	for _, r := range rows {
		// #, time, actor, action, target, address, detail
		if len(r) == 7 && strings.HasPrefix(r[2], browserAdmin) && r[4] == "case:"+caseNo && r[5] == "127.0.0.1" {
			found = true
		}
	}
	if !found {
		t.Fatalf("no reveal of %s by %s from 127.0.0.1 in the audit log: %q", caseNo, browserAdmin, rows)
	}

	// Review: correct category and request type; the correction is kept beside the automatic
	// result and forwarded as case.updated.
	auto := caseJSON(t, client, srv.URL, caseNo)["classification"].(map[string]any)
	const category, requestType = "transport", "suggestion"
	if auto["category"] == category && auto["request_type"] == requestType {
		t.Fatalf("the classifier already answered %s/%s; the correction would change nothing", category, requestType)
	}
	b.Step("open the case for review", chromedp.Navigate(srv.URL+"/console/cases/"+caseNo), chromedp.WaitVisible(css("#correct")))
	b.Step("correct the classification", chromedp.SetValue(css(`#correct select[name="category"]`), category),
		chromedp.SetValue(css(`#correct select[name="request_type"]`), requestType),
		chromedp.SendKeys(css(`#correct input[name="note"]`), "应为交通建议"),
		chromedp.Click(css(`#correct button[type="submit"]`)),
		chromedp.WaitVisible(css(`#category .tag`)))
	b.Screenshot("case-corrected")
	if h := b.HTML("#corrections"); !strings.Contains(h, browserAdmin) || !strings.Contains(h, "应为交通建议") {
		t.Fatalf("the case page lists no correction by %s:\n%s", browserAdmin, h)
	}
	corrected := caseJSON(t, client, srv.URL, caseNo)["classification"].(map[string]any)
	if corrected["source"] != "operator" || corrected["category"] != category || corrected["request_type"] != requestType ||
		corrected["auto_category"] != auto["category"] || corrected["auto_request_type"] != auto["request_type"] {
		t.Fatalf("classification after the correction %v (automatic %v)", corrected, auto)
	}
	b.WaitFor("case.updated with the correction reaches the case system", func(context.Context) (bool, string, error) {
		for _, d := range cs.deliveries("case.updated", caseNo) {
			c := d.Case.Classification
			if c.Category == category && c.RequestType == requestType && c.Source == "operator" {
				return true, "", nil
			}
		}
		return false, fmt.Sprintf("%d case.updated", len(cs.deliveries("case.updated", caseNo))), nil
	})

	// A delivery goes dead while the case system fails, and the retry button sends it once the
	// case system is back.
	cs.setMode(caseSystemDown)
	second := caseNoInReply.FindString(pushWeChat(t, client, srv.URL, "oBrowserCitizen0002", "7002", "我们小区的垃圾三天没人清运了，味道很大。"))
	if second == "" {
		t.Fatal("the second WeChat message made no case")
	}
	dead := reload("the second case's delivery is listed as dead", "/console/deliveries", func(h string) bool {
		return strings.Contains(h, "已放弃") && strings.Contains(h, `class="retry"`)
	})
	b.Screenshot("deliveries-dead")
	if n := strings.Count(dead, `class="retry"`); n != 1 {
		t.Fatalf("%d dead deliveries listed, want the second case's only", n)
	}
	if cs.refusedCount() != 2 {
		t.Fatalf("the case system refused %d tries, want max_attempts (2)", cs.refusedCount())
	}
	cs.setMode(caseSystemHold) // answers only once released: the delivery stays queued meanwhile
	b.Step("retry the dead delivery", chromedp.Click(css("button.retry")),
		// The list of dead deliveries it returns to is empty now (and is the new page, not the old).
		chromedp.WaitVisible(css("#deliveries td.muted")))
	reload("the retried delivery is queued", "/console/deliveries?state=queued", func(h string) bool {
		return strings.Contains(h, "排队中") && strings.Contains(h, "case.created")
	})
	b.Screenshot("deliveries-queued")
	cs.setMode(caseSystemUp)
	reload("the retried delivery is delivered", "/console/cases/"+second, func(h string) bool {
		return strings.Contains(h, "已送达") && !strings.Contains(h, "已放弃")
	})
	b.Screenshot("case-delivered")
	if n := len(cs.deliveries("case.created", second)); n != 1 {
		t.Fatalf("the case system accepted the second case %d times, want once", n)
	}

	// The dashboard with both cases in its figures (only today's count is live; the rest is
	// read when the page loads).
	b.Step("reload the dashboard", chromedp.Navigate(srv.URL+"/console/"), chromedp.WaitVisible(css(`#today[data-live="on"]`)))
	if got := b.Number("#today"); got != before+2 {
		t.Fatalf("today's count %d after two cases, before them %d", got, before)
	}
	b.Screenshot("dashboard")

	// The month report, through the reports page's link; printable.
	b.Step("open the reports", chromedp.Navigate(srv.URL+"/console/reports"), chromedp.WaitVisible(css("#report-total")))
	b.Step("open this month's report", chromedp.Click(chromedp.Search(`//form[contains(@class,"filters")]/a[text()="本月"]`)),
		chromedp.WaitVisible(css("#report-categories")))
	b.Screenshot("month-report")
	if total := b.Text("#report-total"); strings.TrimSpace(total) != "2" {
		t.Fatalf("the month report counts %q cases, want 2", total)
	}
	if h := b.HTML("#report-channels"); !strings.Contains(h, "微信") {
		t.Fatalf("the month report has no WeChat row:\n%s", h)
	}
	if h := b.HTML("#report-categories"); !strings.Contains(h, "交通") {
		t.Fatalf("the month report's categories lack the corrected one:\n%s", h)
	}
	hidden := func() string {
		return Value(b, "read the print layout", chromedp.Evaluate[string](
			`[getComputedStyle(document.querySelector("header")).display, getComputedStyle(document.querySelector("form.filters")).display].join(",")`))
	}
	if got := hidden(); got == "none,none" {
		t.Fatal("the navigation is hidden on screen")
	}
	b.Step("emulate print media", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	}))
	if got := hidden(); got != "none,none" {
		t.Fatalf("printed, the navigation and the filters still show (display %s): no print stylesheet applies", got)
	}
	pdf := Value(b, "print the month report to PDF", chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
	if len(pdf) < 1000 || !strings.HasPrefix(string(pdf), "%PDF") {
		t.Fatalf("the month report's PDF: %d bytes starting %q", len(pdf), pdf[:min(len(pdf), 8)])
	}
	if err := os.WriteFile(filepath.Join(b.Shots, "month-report.pdf"), pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	if n := cs.badSignatures(); n != 0 {
		t.Fatalf("%d deliveries carried a wrong signature", n)
	}
	t.Logf("screenshots in %s", b.Shots)
}

// Value is browsertest.Value, shorter.
func Value[T any](b *browsertest.Browser, what string, a chromedp.Action[T]) T {
	return browsertest.Value(b, what, a)
}

// TestBrowserFirstAdminOfTheExampleConfig runs the built binary as `make run` does, on a copy
// of configs/gateway.example.yaml in a temporary directory (its data directory there too, free
// ports): the first start prints the bootstrap admin's password once, the browser signs in
// with it over plain http on the loopback address, and the second start prints no password.
func TestBrowserFirstAdminOfTheExampleConfig(t *testing.T) {
	b := browsertest.Start(t)
	dir := t.TempDir()
	bin := buildBinary(t)
	example, err := os.ReadFile(filepath.Join("..", "..", "configs", "gateway.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gateway.yaml"), example, 0o600); err != nil {
		t.Fatal(err)
	}

	first := startExampleGateway(t, bin, dir)
	m := regexp.MustCompile(`created the admin account "admin" with the password (\S+)`).FindStringSubmatch(first.output())
	if m == nil {
		t.Fatalf("the first start printed no password:\n%s", first.output())
	}
	password := m[1]
	signIn := func(base, shot string) {
		t.Helper()
		b.Step("open the sign-in page of "+base, chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS(`input[name="name"]`)))
		b.Step("sign in with the printed password", chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "admin"),
			chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password), chromedp.Click(chromedp.CSS(`form.login button`)),
			chromedp.WaitVisible(chromedp.CSS("#today")))
		b.Screenshot(shot)
		if who := b.Text("header .who"); !strings.Contains(who, "admin") {
			t.Fatalf("signed in as %q", who)
		}
		// Sessions outlive a restart (they live in the store): sign out, so the next start
		// has to take the password again.
		b.Step("sign out", chromedp.Click(chromedp.CSS(`header .who button`)), chromedp.WaitVisible(chromedp.CSS(`input[name="name"]`)))
	}
	signIn(first.base, "example-first-start")
	first.stop()
	if strings.Count(first.output(), password) != 1 {
		t.Fatalf("the password was printed %d times", strings.Count(first.output(), password))
	}

	second := startExampleGateway(t, bin, dir)
	if out := second.output(); strings.Contains(out, "with the password") || strings.Contains(out, password) {
		t.Fatalf("the second start printed a password:\n%s", out)
	}
	signIn(second.base, "example-second-start")
	second.stop()
}

// exampleGateway is one run of the built binary.
type exampleGateway struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	mu   sync.Mutex
	out  strings.Builder
	done chan struct{}
}

func (g *exampleGateway) output() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.out.String()
}

func (g *exampleGateway) Write(p []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.out.Write(p)
}

// stop sends SIGTERM, as a terminal's Ctrl-C would (SIGINT), and waits for the exit.
func (g *exampleGateway) stop() {
	g.t.Helper()
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.done:
	case <-time.After(30 * time.Second):
		_ = g.cmd.Process.Kill()
		g.t.Fatalf("the gateway did not stop on SIGTERM:\n%s", g.output())
	}
}

// startExampleGateway starts `serve --config gateway.yaml` in dir, on free loopback ports, and
// returns once it logged its address.
func startExampleGateway(t *testing.T, bin, dir string) *exampleGateway {
	t.Helper()
	g := &exampleGateway{t: t, done: make(chan struct{})}
	g.cmd = exec.Command(bin, "serve", "--config", "gateway.yaml")
	g.cmd.Dir = dir
	// The config refuses port 0, so the ports are found free here; another process could take
	// one before the gateway binds it, which fails the start loudly rather than silently.
	g.cmd.Env = append(os.Environ(), "INTAKE_SERVER__LISTEN="+freePort(t), "INTAKE_SERVER__ADMIN_LISTEN="+freePort(t))
	g.cmd.Stdout, g.cmd.Stderr = g, g
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.cmd.Wait(); close(g.done) }()
	t.Cleanup(func() {
		select {
		case <-g.done:
		default:
			_ = g.cmd.Process.Kill()
			<-g.done
		}
	})
	started := regexp.MustCompile(`"msg":"gateway started".*?"listen":"([^"]+)"`)
	deadline := time.After(60 * time.Second)
	for {
		if m := started.FindStringSubmatch(g.output()); m != nil {
			g.base = "http://" + m[1]
			return g
		}
		select {
		case <-g.done:
			t.Fatalf("the gateway exited at start:\n%s", g.output())
		case <-deadline:
			t.Fatalf("the gateway logged no start within 60 s:\n%s", g.output())
		case <-time.After(50 * time.Millisecond):
		}
	}
}
