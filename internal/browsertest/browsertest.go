// Package browsertest drives Debian's headless Chromium (chromedp) for the console's browser
// tests: it starts the browser with the flags these machines need, runs each step under its own
// timeout, and on a failure names the step and keeps a screenshot and the page's HTML beside
// the test's other screenshots.
package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultStepTimeout bounds one step. Generous, because a step under -race on a busy two-core
// machine can take seconds; a step that is stuck fails with its name instead of the test's
// deadline.
const DefaultStepTimeout = 20 * time.Second

// Browser is one headless Chromium tab of a test.
type Browser struct {
	t   testing.TB
	ctx context.Context
	// Shots is where screenshots go: $CONSOLE_SCREENSHOTS, default the test's temporary
	// directory.
	Shots string
	// StepTimeout bounds each Step and WaitFor.
	StepTimeout time.Duration
	failures    int
}

// Start starts headless Chromium for t. Without a chromium on PATH the test is skipped, except
// under CI=true, where it fails: CI installs the browser, and a skipped browser test would hide a
// broken console. In -short mode it is skipped.
func Start(t testing.TB) *Browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
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
	} else {
		shots = fromModuleRoot(t, shots)
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatalf("screenshot directory: %v", err)
		}
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		// This machine's network is closed: without these Chromium keeps dialling Google's
		// services, each attempt refused (/work/.library/env/machines/go-svc.md).
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		// The test servers' certificates are httptest's own.
		chromedp.Flag("ignore-certificate-errors", true),
		// Chinese text renders in the same font on every machine that has it.
		chromedp.Flag("lang", "zh-CN"),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	// The first Run starts the browser; its context must carry no deadline (chromedp.Run).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &Browser{t: t, ctx: ctx, Shots: shots, StepTimeout: DefaultStepTimeout}
}

// Context is the tab's context, for actions the helpers below do not cover.
func (b *Browser) Context() context.Context { return b.ctx }

// Step runs the actions in order within StepTimeout; on an error it records the page and ends
// the test with the step's name.
func (b *Browser) Step(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.StepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(what, err)
	}
}

// Value runs one action that returns a value, within StepTimeout, failing like Step.
func Value[T any](b *Browser, what string, action chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		b.fail(what, err)
	}
	return v
}

// Text is the visible text of the first element matching the CSS selector.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	return Value(b, "read the text of "+sel, chromedp.Text(chromedp.CSS(sel)))
}

// Number is the visible text of the first element matching the CSS selector read as a whole
// number (a count on the page); the test fails if it is not one.
func (b *Browser) Number(sel string) int {
	b.t.Helper()
	text := b.Text(sel)
	n, err := strconv.Atoi(strings.TrimSpace(text))
	if err != nil {
		b.t.Fatalf("%s shows %q, not a number", sel, text)
	}
	return n
}

// HTML is the outer HTML of the first element matching the CSS selector.
func (b *Browser) HTML(sel string) string {
	b.t.Helper()
	return Value(b, "read the HTML of "+sel, chromedp.OuterHTML(chromedp.CSS(sel)))
}

// WaitFor polls check (which reads the page, or anything else) until it reports done, for at
// most StepTimeout; on time-out the test fails with what and check's last description of what
// it saw. For conditions that need a reload or a look outside the page; a condition on the page
// alone is chromedp.WaitVisible or chromedp.Poll.
func (b *Browser) WaitFor(what string, check func(ctx context.Context) (done bool, saw string, err error)) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, b.StepTimeout)
	defer cancel()
	pause := 50 * time.Millisecond
	saw := ""
	for {
		done, s, err := check(ctx)
		if err == nil && done {
			return
		}
		if s != "" {
			saw = s
		}
		if err != nil && ctx.Err() == nil && !errors.Is(err, context.DeadlineExceeded) {
			b.fail(what, err)
		}
		select {
		case <-ctx.Done():
			b.fail(what, fmt.Errorf("not within %s (last seen: %s)", b.StepTimeout, saw))
		case <-time.After(pause):
		}
		pause = min(2*pause, 500*time.Millisecond)
	}
}

// Screenshot writes the whole page to Shots/name.png. quality < 100 is ignored for PNG; the
// page's width is the window's (1280 CSS pixels).
func (b *Browser) Screenshot(name string) string {
	b.t.Helper()
	png := Value(b, "screenshot "+name, chromedp.FullScreenshot(100))
	path := filepath.Join(b.Shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatalf("write screenshot %s: %v", name, err)
	}
	return path
}

// fail records the page as it is (screenshot and HTML, under a fresh context: the step's may
// have expired) and ends the test naming the step.
func (b *Browser) fail(what string, err error) {
	b.t.Helper()
	b.failures++
	base := filepath.Join(b.Shots, fmt.Sprintf("failure-%d-%s", b.failures, fileName(what)))
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	var kept []string
	if png, perr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); perr == nil && os.WriteFile(base+".png", png, 0o644) == nil {
		kept = append(kept, base+".png")
	}
	if html, herr := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)); herr == nil && os.WriteFile(base+".html", []byte(html), 0o644) == nil {
		kept = append(kept, base+".html")
	}
	url, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href`))
	// The test's temporary directory goes with the test: the page's text goes to the log too.
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if r := []rune(text); len(r) > 1500 {
		text = string(r[:1500]) + "…"
	}
	b.t.Fatalf("browser step %q failed at %s: %v\npage kept in: %s (removed after the test unless $CONSOLE_SCREENSHOTS is set)\npage text:\n%s",
		what, url, err, strings.Join(kept, ", "), text)
}

// fromModuleRoot resolves a relative path against the module's root (the directory of go.mod
// above the test's package), so CONSOLE_SCREENSHOTS=docs/screenshots means the same directory
// whichever package's test writes it.
func fromModuleRoot(t testing.TB, path string) string {
	t.Helper()
	if filepath.IsAbs(path) {
		return path
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("working directory: %v", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Join(d, path)
		}
		if filepath.Dir(d) == d {
			return filepath.Join(dir, path)
		}
	}
}

// fileName turns a step's description into a short file name.
func fileName(s string) string {
	var out strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			out.WriteRune(r)
		default:
			if out.Len() > 0 && !strings.HasSuffix(out.String(), "-") {
				out.WriteByte('-')
			}
		}
		if out.Len() >= 48 {
			break
		}
	}
	return strings.Trim(out.String(), "-")
}
