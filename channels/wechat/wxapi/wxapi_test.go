package wxapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/channels/wechat/wxapi"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
)

const (
	appID  = "wx5f2a1c3d4e5f6a7b"
	secret = "s3cr3t-app-secret-value"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func setup(t *testing.T) (*wxtest.FakeAPI, *wxapi.Client, *clock, *wxapi.MemoryTokenStore) {
	t.Helper()
	fake := wxtest.NewFakeAPI(appID, secret)
	t.Cleanup(fake.Close)
	clk := &clock{now: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)}
	store := wxapi.NewMemoryTokenStore()
	c, err := wxapi.New(wxapi.Config{AppID: appID, AppSecret: secret, BaseURL: fake.URL, Tokens: store, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	return fake, c, clk, store
}

func TestTokenIsFetchedOnceAndRefreshedBeforeExpiry(t *testing.T) {
	t.Parallel()
	fake, c, clk, store := setup(t)
	ctx := context.Background()
	tok, err := c.AccessToken(ctx)
	if err != nil || tok != "TOKEN-1" {
		t.Fatalf("AccessToken = %q, %v", tok, err)
	}
	saved, _ := store.Load(ctx, appID)
	if want := clk.Now().Add(7200 * time.Second); !saved.ExpiresAt.Equal(want) {
		t.Errorf("stored expiry %v, want %v", saved.ExpiresAt, want)
	}
	clk.Advance(100 * time.Minute)
	if tok, _ = c.AccessToken(ctx); tok != "TOKEN-1" || fake.TokenCalls() != 1 {
		t.Fatalf("token refreshed too early: %q after %d fetches", tok, fake.TokenCalls())
	}
	// Inside the 10-minute refresh margin.
	clk.Advance(11 * time.Minute)
	if tok, _ = c.AccessToken(ctx); tok != "TOKEN-2" || fake.TokenCalls() != 2 {
		t.Fatalf("token not refreshed near expiry: %q after %d fetches", tok, fake.TokenCalls())
	}
}

func TestConcurrentCallersFetchOneToken(t *testing.T) {
	t.Parallel()
	fake, c, _, _ := setup(t)
	var wg sync.WaitGroup
	toks := make([]string, 32)
	for i := range toks {
		wg.Go(func() {
			tok, err := c.AccessToken(context.Background())
			if err != nil {
				t.Error(err)
			}
			toks[i] = tok
		})
	}
	wg.Wait()
	if fake.TokenCalls() != 1 {
		t.Errorf("%d token fetches, want 1 (refresh lock)", fake.TokenCalls())
	}
	for _, tok := range toks {
		if tok != "TOKEN-1" {
			t.Fatalf("got token %q", tok)
		}
	}
}

// Two clients sharing one store stand for two replicas sharing the database.
func TestReplicasShareTheStore(t *testing.T) {
	t.Parallel()
	fake, c1, clk, store := setup(t)
	c2, err := wxapi.New(wxapi.Config{AppID: appID, AppSecret: secret, BaseURL: fake.URL, Tokens: store, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c1.SendText(ctx, "openid-1", "您好"); err != nil {
		t.Fatal(err)
	}
	if err := c2.SendText(ctx, "openid-2", "您好"); err != nil {
		t.Fatal(err)
	}
	if fake.TokenCalls() != 1 {
		t.Errorf("%d token fetches for two replicas, want 1", fake.TokenCalls())
	}
}

func TestSendText(t *testing.T) {
	t.Parallel()
	fake, c, _, _ := setup(t)
	if err := c.SendText(context.Background(), "oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z", "您的诉求已转办"); err != nil {
		t.Fatal(err)
	}
	sent := fake.Sent()
	if len(sent) != 1 || sent[0].Path != "/cgi-bin/message/custom/send" {
		t.Fatalf("sent %+v", sent)
	}
	b := sent[0].Body
	text, _ := b["text"].(map[string]any)
	if b["touser"] != "oFx9n5dYkQ2s3Vf8R1Tq0Lm4Wc7Z" || b["msgtype"] != "text" || text["content"] != "您的诉求已转办" {
		t.Errorf("body %v", b)
	}
}

func TestSendTemplate(t *testing.T) {
	t.Parallel()
	fake, c, _, _ := setup(t)
	id, err := c.SendTemplate(context.Background(), wxapi.TemplateMessage{
		ToUser: "openid-1", TemplateID: "tpl-status", URL: "https://hotline.example.gov.cn/c/1",
		Data: map[string]wxapi.TemplateField{"case_no": {Value: "WH2026112700042"}, "status": {Value: "已办结", Color: "#173177"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if id == 0 {
		t.Error("msgid not returned")
	}
	b := fake.Sent()[0].Body
	if _, ok := b["miniprogram"]; ok {
		t.Error("empty miniprogram sent")
	}
	data := b["data"].(map[string]any)
	status := data["status"].(map[string]any)
	if b["template_id"] != "tpl-status" || b["url"] != "https://hotline.example.gov.cn/c/1" || status["value"] != "已办结" || status["color"] != "#173177" {
		t.Errorf("body %v", b)
	}
	if _, err := c.SendTemplate(context.Background(), wxapi.TemplateMessage{ToUser: "x"}); err == nil {
		t.Error("template without template_id accepted")
	}
}

func TestErrcodeWithHTTP200IsAnError(t *testing.T) {
	t.Parallel()
	fake, c, _, _ := setup(t)
	fake.FailNext("/cgi-bin/message/custom/send", 45015)
	err := c.SendText(context.Background(), "openid-1", "x")
	var apiErr *wxapi.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 45015 || apiErr.Op != "/cgi-bin/message/custom/send" {
		t.Fatalf("err = %v, want APIError 45015", err)
	}
	if len(fake.Sent()) != 0 {
		t.Error("a failed send was recorded as sent")
	}
}

func TestStaleTokenIsInvalidatedAndRetriedOnce(t *testing.T) {
	for _, code := range []int{40001, 40014, 42001} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			fake, c, _, store := setup(t)
			ctx := context.Background()
			if _, err := c.AccessToken(ctx); err != nil {
				t.Fatal(err)
			}
			fake.FailNext("/cgi-bin/message/custom/send", code)
			if err := c.SendText(ctx, "openid-1", "x"); err != nil {
				t.Fatalf("errcode %d: not retried: %v", code, err)
			}
			if fake.TokenCalls() != 2 || len(fake.Sent()) != 1 {
				t.Errorf("errcode %d: %d fetches, %d sent", code, fake.TokenCalls(), len(fake.Sent()))
			}
			if tok, _ := store.Load(ctx, appID); tok.Value != "TOKEN-2" {
				t.Errorf("store holds %q", tok.Value)
			}
		})
	}
}

func TestTokenRevokedElsewhere(t *testing.T) {
	t.Parallel()
	fake, c, _, _ := setup(t)
	ctx := context.Background()
	if err := c.SendText(ctx, "openid-1", "a"); err != nil {
		t.Fatal(err)
	}
	fake.RevokeToken() // the fake answers 40001 for the old token from now on
	if _, err := c.SendTemplate(ctx, wxapi.TemplateMessage{ToUser: "o", TemplateID: "t"}); err != nil {
		t.Fatal(err)
	}
	if fake.TokenCalls() != 2 {
		t.Errorf("%d fetches", fake.TokenCalls())
	}
}

func TestRetryHappensOnlyOnce(t *testing.T) {
	t.Parallel()
	fake, c, _, _ := setup(t)
	fake.FailNext("/cgi-bin/message/custom/send", 40001, 40001, 40001)
	err := c.SendText(context.Background(), "openid-1", "x")
	var apiErr *wxapi.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 40001 {
		t.Fatalf("err = %v", err)
	}
	if fake.TokenCalls() != 2 {
		t.Errorf("%d token fetches, want 2 (one retry)", fake.TokenCalls())
	}
}

func TestTokenErrorsDoNotLeakTheSecret(t *testing.T) {
	t.Parallel()
	fake, _, _, _ := setup(t)
	bad, err := wxapi.New(wxapi.Config{AppID: appID, AppSecret: "wrong-secret", BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.AccessToken(context.Background())
	var apiErr *wxapi.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 40125 {
		t.Fatalf("err = %v, want errcode 40125", err)
	}
	// A transport error must not print the URL either: it carries the secret.
	down, _ := wxapi.New(wxapi.Config{AppID: appID, AppSecret: secret, BaseURL: "http://127.0.0.1:1"})
	_, err = down.AccessToken(context.Background())
	if err == nil || strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "secret=") {
		t.Fatalf("transport error %v", err)
	}
}

func TestHTTPErrorStatus(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	t.Cleanup(srv.Close)
	c, _ := wxapi.New(wxapi.Config{AppID: appID, AppSecret: secret, BaseURL: srv.URL})
	_, err := c.AccessToken(context.Background())
	var httpErr *wxapi.HTTPError
	if !errors.As(err, &httpErr) || httpErr.Status != http.StatusBadGateway {
		t.Fatalf("err = %v", err)
	}
}

func TestGetMedia(t *testing.T) {
	t.Parallel()
	fake, c, _, _ := setup(t)
	jpeg := []byte{0xFF, 0xD8, 0xFF, 0xE0, 'J', 'F', 'I', 'F'}
	fake.PutMedia("media-img", wxtest.FakeMedia{ContentType: "image/jpeg", Filename: "pic.jpg", Body: jpeg})
	ctx := context.Background()
	m, err := c.GetMedia(ctx, "media-img")
	if err != nil {
		t.Fatal(err)
	}
	if string(m.Body) != string(jpeg) || m.ContentType != "image/jpeg" || m.Filename != "pic.jpg" {
		t.Errorf("media %+v", m)
	}

	_, err = c.GetMedia(ctx, "expired")
	var apiErr *wxapi.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != 40007 {
		t.Fatalf("unknown media: err = %v, want errcode 40007", err)
	}

	// Video answers JSON with a download URL, which the client follows.
	fake.PutMedia("video-file", wxtest.FakeMedia{ContentType: "video/mp4", Body: []byte("MP4DATA")})
	fake.PutMedia("media-video", wxtest.FakeMedia{VideoURL: fake.URL + "/cgi-bin/media/get?media_id=video-file&access_token=" + mustToken(t, c)})
	m, err = c.GetMedia(ctx, "media-video")
	if err != nil || string(m.Body) != "MP4DATA" || m.ContentType != "video/mp4" {
		t.Fatalf("video: %+v, %v", m, err)
	}
}

func TestGetMediaSizeLimit(t *testing.T) {
	t.Parallel()
	fake := wxtest.NewFakeAPI(appID, secret)
	t.Cleanup(fake.Close)
	c, _ := wxapi.New(wxapi.Config{AppID: appID, AppSecret: secret, BaseURL: fake.URL, MaxMediaBytes: 10})
	fake.PutMedia("big", wxtest.FakeMedia{ContentType: "image/png", Body: make([]byte, 11)})
	if _, err := c.GetMedia(context.Background(), "big"); err == nil {
		t.Fatal("media over the limit accepted")
	}
}

func mustToken(t *testing.T, c *wxapi.Client) string {
	t.Helper()
	tok, err := c.AccessToken(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRefreshLockRespectsContext(t *testing.T) {
	t.Parallel()
	store := wxapi.NewMemoryTokenStore()
	hold := make(chan struct{})
	held := make(chan struct{})
	go store.WithRefreshLock(context.Background(), appID, func(context.Context) error {
		close(held)
		<-hold
		return nil
	})
	<-held
	defer close(hold)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := store.WithRefreshLock(ctx, appID, func(context.Context) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded while another holder has the lock", err)
	}
	// Another app id is not blocked.
	if err := store.WithRefreshLock(context.Background(), "wx-other", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidateKeepsAFresherToken(t *testing.T) {
	t.Parallel()
	store := wxapi.NewMemoryTokenStore()
	ctx := context.Background()
	_ = store.Save(ctx, appID, wxapi.Token{Value: "NEW", ExpiresAt: time.Now().Add(time.Hour)})
	_ = store.Invalidate(ctx, appID, "OLD")
	if tok, _ := store.Load(ctx, appID); tok.Value != "NEW" {
		t.Fatal("a stale invalidation removed a fresher token")
	}
	_ = store.Invalidate(ctx, appID, "NEW")
	if tok, _ := store.Load(ctx, appID); tok.Value != "" {
		t.Fatal("invalidation of the current token did nothing")
	}
}

func TestNewChecksConfig(t *testing.T) {
	for _, cfg := range []wxapi.Config{
		{AppSecret: secret},
		{AppID: appID},
		{AppID: appID, AppSecret: secret, BaseURL: "api.weixin.qq.com"},
		{AppID: appID, AppSecret: secret, BaseURL: "ftp://x"},
	} {
		if _, err := wxapi.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
