package console_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/console"
	"github.com/hotline12345/intake-gateway/internal/jobs"
)

// TestBrowserSmoke signs in, opens the dashboard and sees a WeChat case stored after the page
// loaded appear in today's count without a reload (server-sent events), opens the case list and
// a case, and reveals its personal data in headless Chromium, with screenshots of each page written to
// $CONSOLE_SCREENSHOTS (default: the test's temporary directory). It needs Debian's chromium.
func TestBrowserSmoke(t *testing.T) {
	ctx, shots := chrome(t)
	e := newEnv(t, openSQLite(t), console.Options{LiveInterval: 200 * time.Millisecond})

	step := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	// page waits for sel, writes a screenshot and returns main's HTML.
	page := func(name, sel string) string {
		t.Helper()
		step("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
		html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		return html
	}
	step("open the console", chromedp.Navigate(e.srv.URL+"/console/"))
	page("login", `input[name="name"]`)
	step("sign in", chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "olga"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password), chromedp.Click(chromedp.CSS(`form.login button`)))
	dashboard := page("dashboard", "#today")
	// The page's script has its stream open once it marked the figure live.
	step("the live figure connects", chromedp.WaitVisible(chromedp.CSS(`#today[data-live="on"]`)))
	before, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#today")))
	if err != nil {
		t.Fatal(err)
	}
	e.addCase("browser-live") // the report below counts it too
	want := fmt.Sprint(mustAtoi(t, before) + 1)
	waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	for {
		now, err := chromedp.Run(waitCtx, chromedp.Text(chromedp.CSS("#today")))
		if err != nil {
			t.Fatalf("today's count stayed %s after a new WeChat case (want %s): %v", before, want, err)
		}
		if now == want {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	page("dashboard-live", "#today")
	step("open the cases", chromedp.Navigate(e.srv.URL+"/console/cases"))
	list := page("cases", "#cases")
	step("open a case", chromedp.Click(chromedp.CSS(`a[href="/console/cases/`+e.plain.CaseNo+`"]`)))
	casePage := page("case", "#reveal")
	step("reveal", chromedp.Click(chromedp.CSS("#reveal")))
	revealed := page("case-revealed", ".error")
	step("open the report", chromedp.Navigate(e.srv.URL+"/console/reports?from="+time.Now().AddDate(0, 0, -29).Format("2006-01-02")+"&to="+time.Now().AddDate(0, 0, 1).Format("2006-01-02")))
	report := page("report", "#report-total")
	step("open the deliveries", chromedp.Navigate(e.srv.URL+"/console/deliveries?state="))
	deliveries := page("deliveries", "#deliveries")
	if !strings.Contains(report, `id="report-total">3<`) || !strings.Contains(deliveries, "case.created") {
		t.Fatal("the report or the deliveries page did not render")
	}
	if !strings.Contains(dashboard, "运行概况") || !strings.Contains(list, e.plain.CaseNo) {
		t.Fatal("the dashboard or the case list did not render")
	}
	assertMasked(t, "the case list in the browser", list)
	assertMasked(t, "the case page in the browser", casePage)
	if !strings.Contains(revealed, "13800138000") {
		t.Fatal("the reveal did not show the phone number")
	}
	if n := len(e.audit(intake.AuditReveal)); n != 1 {
		t.Fatalf("%d reveal entries after one click", n)
	}
	t.Logf("screenshots in %s", shots)
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}

// chrome starts headless Chromium for a test (skipping it without one) and returns its context
// and the directory for screenshots: $CONSOLE_SCREENSHOTS, default the test's temporary one.
func chrome(t *testing.T) (context.Context, string) {
	t.Helper()
	browser, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium on PATH: .ci/run installs it (apt-get install chromium); under CI the browser test must run")
		}
		t.Skip("\n*** SKIPPING the browser test: no chromium on PATH (apt-get install chromium) ***")
	}
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	shots := os.Getenv("CONSOLE_SCREENSHOTS")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(browser), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 1000),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		// The test server's certificate is httptest's own.
		chromedp.Flag("ignore-certificate-errors", true),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	return ctx, shots
}

// TestBrowserJobsUI: River's job UI runs under the console's content security policy, and a
// change made through the page's fetch carries the session's CSRF token.
func TestBrowserJobsUI(t *testing.T) {
	ctx, shots := chrome(t)
	e := jobsEnv(t, openSQLite(t))
	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	run("sign in", chromedp.Navigate(e.srv.URL+"/console/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="name"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password), chromedp.Click(chromedp.CSS(`form.login button`)),
		chromedp.WaitVisible(chromedp.CSS("#today")))
	run("open the job UI", chromedp.Navigate(e.srv.URL+"/console/jobs/jobs?state=available"))
	// The app rendered its job list: its scripts ran and its API answered.
	run("the app renders", chromedp.WaitVisible(chromedp.Search(`//*[contains(text(), "`+(jobs.ForwardCase{}).Kind()+`")]`)))
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(shots, "jobs.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	avail := e.adminJobs(t, "available")
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`fetch("/console/jobs/api/jobs/cancel", {method: "POST",
		headers: {"Content-Type": "application/json"}, body: JSON.stringify({ids: [%q]})}).then(r => r.status)`, avail[0].ID.String()),
		chromedp.EvalAwaitPromise))
	if err != nil || status != 200 {
		t.Fatalf("cancel from the page: %d %v", status, err)
	}
	if got := e.adminJobs(t, "cancelled"); len(got) != 1 {
		t.Fatalf("cancelled jobs after the page's request: %v", got)
	}
}
