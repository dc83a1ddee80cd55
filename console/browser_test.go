package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/console"
	"github.com/hotline12345/intake-gateway/internal/browsertest"
	"github.com/hotline12345/intake-gateway/internal/jobs"
)

// TestBrowserSmoke signs in, opens the dashboard and sees a WeChat case stored after the page
// loaded appear in today's count without a reload (server-sent events), opens the case list and
// a case, and reveals its personal data in headless Chromium, with screenshots of each page written to
// $CONSOLE_SCREENSHOTS (default: the test's temporary directory). It needs Debian's chromium.
func TestBrowserSmoke(t *testing.T) {
	b := browsertest.Start(t)
	e := newEnv(t, openSQLite(t), console.Options{LiveInterval: 200 * time.Millisecond})

	// page waits for sel, writes a screenshot and returns main's HTML.
	page := func(name, sel string) string {
		t.Helper()
		b.Step("wait for "+sel+" on the "+name+" page", chromedp.WaitVisible(chromedp.CSS(sel)))
		b.Screenshot(name)
		return b.HTML("main")
	}
	b.Step("open the console", chromedp.Navigate(e.srv.URL+"/console/"))
	page("login", `input[name="name"]`)
	b.Step("sign in", chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "olga"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password), chromedp.Click(chromedp.CSS(`form.login button`)))
	dashboard := page("dashboard", "#today")
	// The page's script has its stream open once it marked the figure live.
	b.Step("the live figure connects", chromedp.WaitVisible(chromedp.CSS(`#today[data-live="on"]`)))
	before := b.Number("#today")
	e.addCase("browser-live") // the report below counts it too
	want := fmt.Sprint(before + 1)
	b.WaitFor("today's count rises to "+want+" without a reload", func(ctx context.Context) (bool, string, error) {
		now, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#today")))
		return now == want, now, err
	})
	page("dashboard-live", "#today")
	b.Step("open the cases", chromedp.Navigate(e.srv.URL+"/console/cases"))
	list := page("cases", "#cases")
	b.Step("open a case", chromedp.Click(chromedp.CSS(`a[href="/console/cases/`+e.plain.CaseNo+`"]`)))
	casePage := page("case", "#reveal")
	b.Step("reveal", chromedp.Click(chromedp.CSS("#reveal")))
	revealed := page("case-revealed", ".error")
	b.Step("open the report", chromedp.Navigate(e.srv.URL+"/console/reports?from="+time.Now().AddDate(0, 0, -29).Format("2006-01-02")+"&to="+time.Now().AddDate(0, 0, 1).Format("2006-01-02")))
	report := page("report", "#report-total")
	b.Step("open the deliveries", chromedp.Navigate(e.srv.URL+"/console/deliveries?state="))
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
	t.Logf("screenshots in %s", b.Shots)
}

// TestBrowserJobsUI: River's job UI runs under the console's content security policy, and a
// change made through the page's fetch carries the session's CSRF token.
func TestBrowserJobsUI(t *testing.T) {
	b := browsertest.Start(t)
	e := jobsEnv(t, openSQLite(t))
	run := b.Step
	run("sign in", chromedp.Navigate(e.srv.URL+"/console/login"),
		chromedp.WaitVisible(chromedp.CSS(`input[name="name"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="name"]`), "alice"),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password), chromedp.Click(chromedp.CSS(`form.login button`)),
		chromedp.WaitVisible(chromedp.CSS("#today")))
	run("open the job UI", chromedp.Navigate(e.srv.URL+"/console/jobs/jobs?state=available"))
	// The app rendered its job list: its scripts ran and its API answered.
	run("the app renders", chromedp.WaitVisible(chromedp.Search(`//*[contains(text(), "`+(jobs.ForwardCase{}).Kind()+`")]`)))
	b.Screenshot("jobs")
	avail := e.adminJobs(t, "available")
	status, err := chromedp.Run(b.Context(), chromedp.Evaluate[int](fmt.Sprintf(`fetch("/console/jobs/api/jobs/cancel", {method: "POST",
		headers: {"Content-Type": "application/json"}, body: JSON.stringify({ids: [%q]})}).then(r => r.status)`, avail[0].ID.String()),
		chromedp.EvalAwaitPromise))
	if err != nil || status != 200 {
		t.Fatalf("cancel from the page: %d %v", status, err)
	}
	if got := e.adminJobs(t, "cancelled"); len(got) != 1 {
		t.Fatalf("cancelled jobs after the page's request: %v", got)
	}
}
