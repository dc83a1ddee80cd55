package media_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels/wechat"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxapi"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/internal/safefetch"
	"github.com/hotline12345/intake-gateway/media"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/sqlite"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

func TestToFetch(t *testing.T) {
	atts := []intake.Attachment{
		{Kind: intake.AttachmentImage, MediaID: "m1"},
		{Kind: intake.AttachmentLink, URL: "https://example.com"},
		{Kind: intake.AttachmentAudio, URL: "https://api.twilio.com/rec/1"},
		{Kind: intake.AttachmentImage, URL: "/v1/attachments/already"},
	}
	if got := media.ToFetch(intake.ChannelWeChat, atts); len(got) != 1 || got[0] != 0 {
		t.Fatalf("wechat: %v", got)
	}
	if got := media.ToFetch(intake.ChannelSMS, atts); len(got) != 1 || got[0] != 2 {
		t.Fatalf("sms: %v", got)
	}
	if got := media.ToFetch(intake.ChannelREST, atts); len(got) != 0 {
		t.Fatalf("rest: %v", got)
	}
}

func TestWeChatMediaIsCopiedIntoTheStore(t *testing.T) {
	api := wxtest.NewFakeAPI("wxapp", "secret")
	defer api.Close()
	api.PutMedia("photo-1", wxtest.FakeMedia{ContentType: "image/jpeg", Body: []byte("\xff\xd8JPEGDATA")})
	client, err := wxapi.New(wxapi.Config{AppID: "wxapp", AppSecret: "secret", BaseURL: api.URL, Tokens: wxapi.NewMemoryTokenStore()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	blobs := media.DirStore{Dir: filepath.Join(dir, "attachments")}
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(dir, "m.db"), Options: storetest.Options()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	w := media.NewWorker(st, blobs, map[string]media.Fetcher{"wechat-main": wechat.MediaFetcher(client)}, nil, store.NewID, nil)
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	runner, err := jobs.RunnerFor(st, &river.Config{Workers: workers, Queues: map[string]river.QueueConfig{jobs.QueueMedia: {MaxWorkers: 2}},
		FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler), SkipUnknownJobCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer runner.Stop(context.Background())

	nc := storetest.NewCase("wechat-main", "img-1", time.Now().UTC())
	nc.Case.Channel = intake.ChannelWeChat
	nc.Case.Attachments = []intake.Attachment{
		{Kind: intake.AttachmentImage, MediaID: "photo-1"},
		{Kind: intake.AttachmentImage, MediaID: "expired-1"},
	}
	nc.Fetch = media.ToFetch(intake.ChannelWeChat, nc.Case.Attachments)
	res, err := st.CreateCase(context.Background(), nc)
	if err != nil {
		t.Fatal(err)
	}
	var c *intake.Case
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, _ = st.GetCase(context.Background(), res.Case.ID)
		if strings.HasPrefix(c.Attachments[0].URL, media.PathPrefix) || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	a := c.Attachments[0]
	if !strings.HasPrefix(a.URL, media.PathPrefix) || a.ContentType != "image/jpeg" || a.MediaID != "photo-1" {
		t.Fatalf("attachment after fetch: %+v", a)
	}
	r, ct, err := blobs.Open(context.Background(), strings.TrimPrefix(a.URL, media.PathPrefix))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r)
	r.Close()
	if ct != "image/jpeg" || !bytes.Equal(body, []byte("\xff\xd8JPEGDATA")) {
		t.Fatalf("stored %q %q", ct, body)
	}
	// The expired media is given up (not retried for ever), and the case keeps its media id.
	time.Sleep(200 * time.Millisecond)
	c, _ = st.GetCase(context.Background(), res.Case.ID)
	if c.Attachments[1].URL != "" || c.Attachments[1].MediaID != "expired-1" {
		t.Fatalf("expired attachment: %+v", c.Attachments[1])
	}
	if _, _, err := blobs.Open(context.Background(), "../../etc/passwd"); err == nil {
		t.Fatal("a path outside the store was opened")
	}
}

// hits counts the requests a test server received.
type hits struct{ n atomic.Int32 }

func (h *hits) wrap(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { h.n.Add(1); next(w, r) }
}

func TestURLFetcher(t *testing.T) {
	var count hits
	srv := httptest.NewServer(count.wrap(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gone":
			http.NotFound(w, r)
		case "/huge-declared":
			w.Header().Set("Content-Length", strconv.Itoa(media.MaxBytes+1))
			_, _ = io.WriteString(w, "ID3")
		case "/huge":
			_, _ = io.CopyN(w, zeros{}, media.MaxBytes+1)
		default:
			w.Header().Set("Content-Type", "audio/mpeg")
			_, _ = io.WriteString(w, "ID3")
		}
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "http://")
	lab := safefetch.Policy{Hosts: safefetch.MustHosts(host), AllowHTTP: true, AllowPrivateNetworks: true}
	f := media.URLFetcher(lab, nil)
	b, err := f.Fetch(context.Background(), intake.Attachment{URL: srv.URL + "/rec.mp3"})
	if err != nil || b.ContentType != "audio/mpeg" || string(b.Body) != "ID3" {
		t.Fatalf("%+v %v", b, err)
	}
	for _, path := range []string{"/gone", "/huge-declared", "/huge"} {
		if _, err := f.Fetch(context.Background(), intake.Attachment{URL: srv.URL + path}); !errors.Is(err, media.ErrGone) {
			t.Fatalf("%s: %v, want ErrGone", path, err)
		}
	}
	before := count.n.Load()
	for _, u := range []string{"ftp://" + host + "/y", "file:///etc/passwd", "::", "http://other.example/x", "http://user:pw@" + host + "/x"} {
		if _, err := f.Fetch(context.Background(), intake.Attachment{URL: u}); !errors.Is(err, safefetch.ErrRefused) {
			t.Fatalf("%s: %v, want a refusal", u, err)
		}
		if f.(media.Admitter).Admits(intake.Attachment{URL: u}) {
			t.Fatalf("%s admitted", u)
		}
	}
	// The same host without the lab switch: loopback is refused when connecting.
	strict := lab
	strict.AllowPrivateNetworks = false
	if _, err := media.URLFetcher(strict, nil).Fetch(context.Background(), intake.Attachment{URL: srv.URL + "/rec.mp3"}); !errors.Is(err, safefetch.ErrRefused) {
		t.Fatalf("loopback with the default policy: %v", err)
	}
	if n := count.n.Load(); n != before {
		t.Fatalf("%d refused requests reached the server", n-before)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestWorkerAdmits(t *testing.T) {
	rest := media.URLFetcher(safefetch.Policy{Hosts: safefetch.MustHosts("recordings.callcentre.example")}, nil)
	byID := media.FetchFunc(func(context.Context, intake.Attachment) (media.Blob, error) { return media.Blob{}, nil })
	w := media.NewWorker(nil, media.DirStore{Dir: t.TempDir()}, map[string]media.Fetcher{"wechat-main": byID}, rest, store.NewID, nil)
	for _, tc := range []struct {
		channel string
		att     intake.Attachment
		want    bool
	}{
		{"wechat-main", intake.Attachment{MediaID: "m1"}, true},
		{"rest:crm", intake.Attachment{URL: "https://recordings.callcentre.example/r.wav"}, true},
		{"phone:cc", intake.Attachment{URL: "https://recordings.callcentre.example/r.wav"}, true},
		{"rest:crm", intake.Attachment{URL: "http://127.0.0.1:8080/secret"}, false},
		{"rest:crm", intake.Attachment{URL: "https://169.254.169.254/latest/meta-data/"}, false},
		{"rest:crm", intake.Attachment{URL: "http://recordings.callcentre.example/r.wav"}, false},
	} {
		if got := w.Admits(tc.channel, tc.att); got != tc.want {
			t.Errorf("Admits(%s, %s) = %v, want %v", tc.channel, tc.att.URL, got, tc.want)
		}
	}
	w = media.NewWorker(nil, media.DirStore{Dir: t.TempDir()}, nil, nil, store.NewID, nil)
	if w.Admits("rest:crm", intake.Attachment{URL: "https://recordings.callcentre.example/r.wav"}) {
		t.Error("admitted without any fetcher")
	}
}
