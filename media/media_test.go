package media_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels/wechat"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxapi"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
	"github.com/hotline12345/intake-gateway/jobs"
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
	w := media.NewWorker(blobs, store.NewID, nil)
	w.SetFetchers(map[string]media.Fetcher{"wechat-main": wechat.MediaFetcher(client)})
	workers := river.NewWorkers()
	river.AddWorker(workers, w)
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(dir, "m.db"), Options: storetest.Options(),
		River: &river.Config{Workers: workers, Queues: map[string]river.QueueConfig{jobs.QueueMedia: {MaxWorkers: 2}},
			FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler), SkipUnknownJobCheck: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	w.SetCaseStore(st)
	if err := st.StartWorkers(context.Background()); err != nil {
		t.Fatal(err)
	}

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

func TestHTTPFetcher(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/gone" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "audio/mpeg")
		_, _ = io.WriteString(w, "ID3")
	}))
	defer srv.Close()
	f := media.HTTPFetcher(nil)
	b, err := f.Fetch(context.Background(), intake.Attachment{URL: srv.URL + "/rec.mp3"})
	if err != nil || b.ContentType != "audio/mpeg" || string(b.Body) != "ID3" {
		t.Fatalf("%+v %v", b, err)
	}
	for _, u := range []string{srv.URL + "/gone", "ftp://x/y", "::"} {
		if _, err := f.Fetch(context.Background(), intake.Attachment{URL: u}); err == nil || !strings.Contains(err.Error(), "gone") {
			t.Fatalf("%s: %v", u, err)
		}
	}
}
