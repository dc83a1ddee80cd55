package wechat_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/wechat"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxapi"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
	"github.com/hotline12345/intake-gateway/internal/safefetch"
)

// The media client talks to the API host (where the access_token goes) and to nothing else
// unless media_hosts names it; what it sends elsewhere carries no token.
func TestMediaClientKeepsToItsHosts(t *testing.T) {
	api := wxtest.NewFakeAPI("wxapp", "secret")
	defer api.Close()
	var (
		mu       sync.Mutex
		stranger []*http.Request
	)
	attacker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		stranger = append(stranger, r)
		mu.Unlock()
		w.Header().Set("Content-Type", "video/mp4")
		_, _ = io.WriteString(w, "MP4")
	}))
	defer attacker.Close()
	api.PutMedia("photo", wxtest.FakeMedia{ContentType: "image/jpeg", Body: []byte("\xff\xd8JPEG")})
	api.PutMedia("video", wxtest.FakeMedia{VideoURL: attacker.URL + "/v.mp4"})

	ch := channels.Config{ID: "wx", Type: "wechat", AppID: "wxapp", AppSecret: "secret", Token: "tok",
		Settings: map[string]any{"api_base_url": api.URL}}
	lab := safefetch.Policy{AllowHTTP: true, AllowPrivateNetworks: true}
	client, err := wechat.NewMediaClient(ch, wxapi.NewMemoryTokenStore(), lab)
	if err != nil {
		t.Fatal(err)
	}
	f := wechat.MediaFetcher(client)
	ctx := context.Background()
	if b, err := f.Fetch(ctx, intake.Attachment{MediaID: "photo"}); err != nil || string(b.Body) != "\xff\xd8JPEG" {
		t.Fatalf("photo: %+v %v", b, err)
	}
	// The video_url WeChat answers names another host: not on the list, not requested.
	if _, err := f.Fetch(ctx, intake.Attachment{MediaID: "video"}); !errors.Is(err, safefetch.ErrRefused) {
		t.Fatalf("video_url off the list: %v", err)
	}
	mu.Lock()
	if len(stranger) != 0 {
		t.Fatalf("a host off the list was requested %d times", len(stranger))
	}
	mu.Unlock()

	// Listed (the operator added the video CDN), it is fetched — without the token.
	ch.MediaHosts = []string{strings.TrimPrefix(api.URL, "http://"), strings.TrimPrefix(attacker.URL, "http://")}
	client, err = wechat.NewMediaClient(ch, wxapi.NewMemoryTokenStore(), lab)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := wechat.MediaFetcher(client).Fetch(ctx, intake.Attachment{MediaID: "video"}); err != nil || string(b.Body) != "MP4" {
		t.Fatalf("listed video host: %+v %v", b, err)
	}
	mu.Lock()
	for _, r := range stranger {
		if r.URL.Query().Get("access_token") != "" || r.Header.Get("Authorization") != "" {
			t.Fatalf("the video host got credentials: %s %q", r.URL, r.Header.Get("Authorization"))
		}
	}
	mu.Unlock()

	// By default the loopback API host is refused when connecting: not even the token call
	// leaves.
	calls := api.TokenCalls()
	strict := lab
	strict.AllowPrivateNetworks = false
	ch.MediaHosts = nil
	client, err = wechat.NewMediaClient(ch, wxapi.NewMemoryTokenStore(), strict)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wechat.MediaFetcher(client).Fetch(ctx, intake.Attachment{MediaID: "photo"}); !errors.Is(err, safefetch.ErrRefused) {
		t.Fatalf("loopback API host with the default policy: %v", err)
	}
	if api.TokenCalls() != calls {
		t.Fatal("the loopback API host was reached")
	}

	ch.MediaHosts = []string{"api.weixin.qq.com"}
	if _, err := wechat.NewMediaClient(ch, wxapi.NewMemoryTokenStore(), lab); err == nil || !strings.Contains(err.Error(), "media_hosts") {
		t.Fatalf("media_hosts without the configured API host: %v", err)
	}
}
