package weibo_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels/weibo"
	"github.com/hotline12345/intake-gateway/internal/safefetch"
)

// The media client reaches only the upload host (where the access_token goes), and by default
// only at a public address.
func TestMediaClientKeepsToTheUploadHost(t *testing.T) {
	attacker := newFakeAPI(t)
	attacker.answer = func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "x") }
	upload := newFakeAPI(t)
	upload.answer = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fid") == "moved" {
			http.Redirect(w, r, attacker.srv.URL+"/collect", http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "audio/amr")
		_, _ = io.WriteString(w, "#!AMR\n")
	}
	settings := map[string]any{"access_token": accessToken, "upload_base_url": upload.srv.URL}
	lab := safefetch.Policy{AllowHTTP: true, AllowPrivateNetworks: true}
	c, err := weibo.NewMediaClient(channelConfig(settings), lab)
	if err != nil {
		t.Fatal(err)
	}
	f := weibo.MediaFetcher(c)
	if b, err := f.Fetch(context.Background(), intake.Attachment{MediaID: "1"}); err != nil || string(b.Body) != "#!AMR\n" {
		t.Fatalf("download: %+v %v", b, err)
	}
	if _, err := f.Fetch(context.Background(), intake.Attachment{MediaID: "moved"}); err == nil {
		t.Fatal("a redirect answer was taken for the file")
	}
	if len(attacker.reqs) != 0 {
		t.Fatalf("the redirect target was requested (%d)", len(attacker.reqs))
	}

	strict := lab
	strict.AllowPrivateNetworks = false
	c, err = weibo.NewMediaClient(channelConfig(settings), strict)
	if err != nil {
		t.Fatal(err)
	}
	before := len(upload.reqs)
	if _, err := weibo.MediaFetcher(c).Fetch(context.Background(), intake.Attachment{MediaID: "1"}); !errors.Is(err, safefetch.ErrRefused) {
		t.Fatalf("loopback upload host with the default policy: %v", err)
	}
	if len(upload.reqs) != before {
		t.Fatal("the loopback upload host was reached")
	}

	cfg := channelConfig(settings)
	cfg.MediaHosts = []string{"upload.api.weibo.com"}
	if _, err := weibo.NewMediaClient(cfg, lab); err == nil || !strings.Contains(err.Error(), "media_hosts") {
		t.Fatalf("media_hosts without the configured upload host: %v", err)
	}
}
