package wechat_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/internal/app"

	"github.com/labstack/echo/v4"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/wechat"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
)

// idempotentReceiver gives every ExternalID one case number, the first time it is seen, like the
// core does; copies that race are answered with the same number.
type idempotentReceiver struct {
	mu    sync.Mutex
	seen  map[string]string
	calls []string
}

func (r *idempotentReceiver) answer(id string) app.Reply {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, id)
	no, ok := r.seen[id]
	if !ok {
		no = fmt.Sprintf("WH20261127%05d", len(r.seen)+1)
		r.seen[id] = no
		return app.Reply{Text: "您的诉求已受理，工单编号" + no, Outcome: app.OutcomeCreated}
	}
	return app.Reply{Text: "您的诉求已受理，工单编号" + no, Outcome: app.OutcomeDuplicate}
}

func (r *idempotentReceiver) Receive(_ context.Context, m app.Message) (app.Reply, error) {
	time.Sleep(5 * time.Millisecond) // let the copies overlap
	return r.answer(m.Submission.ExternalID), nil
}

func (r *idempotentReceiver) Event(_ context.Context, ev app.Event) (app.Reply, error) {
	return r.answer(ev.ExternalID), nil
}

// WeChat retries a push it got no answer to within 5 s; copies can race. The adapter must pass
// the same ExternalID for every copy and turn equal Receiver replies into equal answers.
func TestConcurrentDuplicateDeliveries(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			recv := &idempotentReceiver{seen: map[string]string{}}
			h := serve(t, recv, nil, nil)

			for _, body := range []string{messageCases[0].body, messageCases[10].body} { // a text and a subscribe
				const copies = 16
				replies := make([]string, copies)
				var wg sync.WaitGroup
				for i := range copies {
					wg.Go(func() {
						// Each retry is a new request: new nonce, same message.
						resp := h.send(t, mode.channel, wxtest.Request{Body: body, Safe: mode.safe, Compatible: mode.compatible, Nonce: freshNonce()})
						replies[i] = readReply(t, resp, mode.safe).Content
					})
				}
				wg.Wait()
				for i, r := range replies {
					if r != replies[0] {
						t.Fatalf("copy %d answered %q, copy 0 %q", i, r, replies[0])
					}
				}
				if !strings.HasPrefix(replies[0], "您的诉求已受理，工单编号WH") {
					t.Fatalf("reply %q", replies[0])
				}
			}
			recv.mu.Lock()
			defer recv.mu.Unlock()
			if len(recv.calls) != 32 || len(recv.seen) != 2 {
				t.Fatalf("Receiver saw %d calls for %d distinct ids; want 32 calls, 2 ids", len(recv.calls), len(recv.seen))
			}
			if _, ok := recv.seen["24312345678901234"]; !ok {
				t.Errorf("message ExternalID is not the MsgId: %v", recv.seen)
			}
		})
	}
}

func TestReceiverFailures(t *testing.T) {
	h := newHarness(t, map[string]any{"reply_timeout": "150ms"})
	cases := []struct {
		name       string
		answer     func(ctx context.Context, id string) (app.Reply, error)
		wantStatus int
		wantBody   string
	}{
		{"store unavailable", func(context.Context, string) (app.Reply, error) {
			return app.Reply{}, fmt.Errorf("commit: %w", intake.ErrUnavailable)
		}, 503, "retry"},
		{"deadline", func(ctx context.Context, _ string) (app.Reply, error) {
			<-ctx.Done()
			return app.Reply{}, ctx.Err()
		}, 503, "retry"},
		{"unexpected error", func(context.Context, string) (app.Reply, error) {
			return app.Reply{}, errors.New("boom")
		}, 500, "retry"},
		{"invalid submission", func(context.Context, string) (app.Reply, error) {
			return app.Reply{}, intake.Invalid("content.text", "longer than 10000 characters")
		}, 400, "content.text"},
		{"external id conflict", func(context.Context, string) (app.Reply, error) {
			return app.Reply{}, &intake.ConflictError{Existing: &intake.Case{ExternalID: "x", CaseNo: "WH1"}}
		}, 409, "MsgId already used"},
		{"nothing to say", func(context.Context, string) (app.Reply, error) {
			return app.Reply{Outcome: app.OutcomeIgnored}, nil
		}, 200, "success"},
	}
	for _, mode := range modes {
		for _, tc := range cases {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				h.recv.reset()
				h.recv.answer = tc.answer
				started := time.Now()
				resp := h.send(t, mode.channel, wxtest.Request{Body: messageCases[0].body, Safe: mode.safe, Compatible: mode.compatible})
				if elapsed := time.Since(started); elapsed > 2*time.Second {
					t.Errorf("answered after %v with reply_timeout 150ms", elapsed)
				}
				// An empty reply is the plain string success, never an encrypted envelope.
				if resp.status != tc.wantStatus || !strings.Contains(resp.body, tc.wantBody) || (tc.wantStatus == 200 && resp.body != "success") {
					t.Fatalf("answer %d %q, want %d %q", resp.status, resp.body, tc.wantStatus, tc.wantBody)
				}
				if strings.Contains(resp.body, "<xml>") && tc.wantStatus != 200 {
					t.Fatal("an error answer looks like a reply")
				}
			})
		}
	}
	h.recv.mu.Lock()
	defer h.recv.mu.Unlock()
	for _, d := range h.recv.deadlines {
		if d <= 0 || d > 150*time.Millisecond {
			t.Fatalf("Receiver context deadline %v, want ≤ reply_timeout", d)
		}
	}
	if got := h.counter(t, "intake_wechat_failed_total", map[string]string{"channel_id": chSafe}); got != 3 {
		t.Errorf("failed_total{wx-safe} = %v, want 3", got)
	}
}

func TestDefaultReplyTimeout(t *testing.T) {
	h := newHarness(t, nil)
	h.send(t, chPlain, wxtest.Request{Body: messageCases[0].body})
	h.recv.mu.Lock()
	defer h.recv.mu.Unlock()
	if len(h.recv.deadlines) != 1 || h.recv.deadlines[0] <= 2*time.Second || h.recv.deadlines[0] > 3*time.Second {
		t.Fatalf("deadlines %v, want about 3s", h.recv.deadlines)
	}
}

// No openid and no message text in the logs, at any level: the adapter logs reasons and
// pseudonyms only.
func TestLogsCarryNoPersonalData(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&buf, &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	recv := &fakeReceiver{}
	h := serve(t, recv, nil, logger)
	for _, tc := range messageCases {
		h.send(t, chPlain, wxtest.Request{Body: tc.body})
		h.send(t, chSafe, wxtest.Request{Body: tc.body, Safe: true})
	}
	h.send(t, chPlain, wxtest.Request{Body: withField("Content", "")})
	h.send(t, chPlain, wxtest.Request{Body: withField("ToUserName", "gh_ffff")})
	recv.answer = func(context.Context, string) (app.Reply, error) { return app.Reply{}, intake.ErrUnavailable }
	h.send(t, chSafe, wxtest.Request{Body: messageCases[0].body, Safe: true})

	mu.Lock()
	defer mu.Unlock()
	logs := buf.String()
	if !strings.Contains(logs, "wechat request refused") || !strings.Contains(logs, "not acknowledged") {
		t.Fatalf("expected log lines missing:\n%s", logs)
	}
	for _, secret := range []string{openID, "小区物业", "路灯", "我家楼下", acct.Token} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}

type lockedWriter struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestNewValidatesSettings(t *testing.T) {
	recv := &fakeReceiver{}
	base := func() channels.Config { return channelConfig("wechat-main", "safe", nil) }
	cases := []struct {
		name string
		edit func(*channels.Config)
		want string
	}{
		{"timestamp window not a duration", func(c *channels.Config) { c.Settings = map[string]any{"timestamp_window": "five"} }, "channels[wechat-main].timestamp_window:"},
		{"timestamp window bare number", func(c *channels.Config) { c.Settings = map[string]any{"timestamp_window": 300} }, "channels[wechat-main].timestamp_window:"},
		{"timestamp window too small", func(c *channels.Config) { c.Settings = map[string]any{"timestamp_window": "1s"} }, "channels[wechat-main].timestamp_window:"},
		{"reply timeout over 4.5s", func(c *channels.Config) { c.Settings = map[string]any{"reply_timeout": "5s"} }, "channels[wechat-main].reply_timeout:"},
		{"account id is the AppID", func(c *channels.Config) { c.Settings = map[string]any{"account_id": "wx5f2a1c3d4e5f6a7b"} }, "channels[wechat-main].account_id:"},
		{"placeholder for an unknown type", func(c *channels.Config) {
			c.Settings = map[string]any{"placeholders": map[string]any{"sticker": "[表情]"}}
		}, "channels[wechat-main].placeholders.sticker:"},
		{"empty placeholder", func(c *channels.Config) { c.Settings = map[string]any{"placeholders": map[string]any{"image": ""}} }, "channels[wechat-main].placeholders.image:"},
		{"api base url", func(c *channels.Config) { c.Settings = map[string]any{"api_base_url": "api.weixin.qq.com"} }, "channels[wechat-main].api_base_url:"},
		{"bad aes key", func(c *channels.Config) { c.EncodingAESKey = strings.Repeat("*", 43) }, "channels[wechat-main].encoding_aes_key:"},
		{"safe without key", func(c *channels.Config) { c.EncodingAESKey = "" }, "channels[wechat-main].encoding_aes_key: is required in safe mode"},
		{"unknown mode", func(c *channels.Config) { c.Mode = "secure" }, "channels[wechat-main].mode:"},
		{"missing token", func(c *channels.Config) { c.Token = "" }, "channels[wechat-main].token:"},
		{"missing app id", func(c *channels.Config) { c.AppID = "" }, "channels[wechat-main].app_id:"},
		{"not a wechat channel", func(c *channels.Config) { c.Type = "weibo" }, "channels[wechat-main].type:"},
		{"id unusable in a path", func(c *channels.Config) { c.ID = "wechat*main" }, "channels[wechat*main].id:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base()
			tc.edit(&cfg)
			_, err := wechat.New(cfg, channels.Deps{Receiver: recv})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := wechat.New(base(), channels.Deps{}); err == nil {
		t.Error("New without a Receiver accepted")
	}
	ok := base()
	ok.Settings = map[string]any{"timestamp_window": "2m", "reply_timeout": "2s", "account_id": acct.GhID, "menu": map[string]any{"k": "v"}}
	if _, err := wechat.New(ok, channels.Deps{Receiver: recv}); err != nil {
		t.Errorf("valid settings (with a key owned by someone else) refused: %v", err)
	}
}

// Without account_id the ToUserName is not checked, and the reply comes from whatever account
// the push was addressed to.
func TestWithoutAccountID(t *testing.T) {
	recv := &fakeReceiver{}
	e := echo.New()
	a, err := wechat.New(channelConfig(chPlain, "plain", nil), channels.Deps{Receiver: recv, Clock: intake.ClockFunc(func() time.Time { return testNow })})
	if err != nil {
		t.Fatal(err)
	}
	a.Register(e)
	srv := httptest.NewServer(e)
	defer srv.Close()
	h := &harness{srv: srv, recv: recv}
	resp := h.send(t, chPlain, wxtest.Request{Body: withField("ToUserName", "<![CDATA[gh_ffffffffffff]]>")})
	if r := readReply(t, resp, false); r.FromUserName != "gh_ffffffffffff" {
		t.Fatalf("reply from %q", r.FromUserName)
	}
}

func TestRegistersOnlyConfiguredPaths(t *testing.T) {
	e := echo.New()
	a, err := wechat.New(channelConfig("wechat-main", "safe", nil), channels.Deps{Receiver: &fakeReceiver{}})
	if err != nil {
		t.Fatal(err)
	}
	a.Register(e)
	var got []string
	for _, r := range e.Routes() {
		got = append(got, r.Method+" "+r.Path)
	}
	if len(got) != 2 || !contains(got, "GET /hooks/wechat/wechat-main") || !contains(got, "POST /hooks/wechat/wechat-main") {
		t.Fatalf("routes %v", got)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestNewClientUsesSettings(t *testing.T) {
	fake := wxtest.NewFakeAPI(acct.AppID, "secret")
	defer fake.Close()
	c, err := wechat.NewClient(channelConfig("wechat-main", "safe", map[string]any{"api_base_url": fake.URL}), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendText(context.Background(), openID, "您好"); err != nil {
		t.Fatal(err)
	}
	if len(fake.Sent()) != 1 {
		t.Fatal("NewClient does not call the configured base URL")
	}
	cfg := channelConfig("wechat-main", "safe", nil)
	cfg.AppSecret = ""
	if _, err := wechat.NewClient(cfg, nil, nil); err == nil || !strings.Contains(err.Error(), "channels[wechat-main].app_secret") {
		t.Errorf("err = %v", err)
	}
}

// silenceper/wechat/v2 sets logrus to debug on import (logging every decrypted message) and
// keeps its API base URL in process globals. No production package of this channel may import
// it or logrus; tests may use its side-effect-free util package.
func TestProductionCodeDoesNotImportSilenceper(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not in PATH")
	}
	out, err := exec.Command("go", "list", "-deps", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/silenceper/") || strings.HasPrefix(pkg, "github.com/sirupsen/logrus") {
			t.Errorf("production dependency %s", pkg)
		}
	}
	// Guard the guard: the listing must include this package.
	if !strings.Contains(string(out), "github.com/hotline12345/intake-gateway/channels/wechat\n") {
		t.Fatalf("go list output does not list this package:\n%s", out)
	}
}
