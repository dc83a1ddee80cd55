package weibo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels/weibo"
)

const accessToken = "2.00abcDEF_token_Secret"

// fakeAPI is Weibo's API as the client sees it: it records each request and answers with the
// handler the test sets.
type fakeAPI struct {
	srv    *httptest.Server
	mu     sync.Mutex
	reqs   []*http.Request
	bodies []string
	answer func(w http.ResponseWriter, r *http.Request)
}

func newFakeAPI(t *testing.T) *fakeAPI {
	f := &fakeAPI{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, r)
		f.bodies = append(f.bodies, string(b))
		answer := f.answer
		f.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func newClient(t *testing.T, f *fakeAPI, extra map[string]any) *weibo.Client {
	t.Helper()
	s := map[string]any{"access_token": accessToken, "api_base_url": f.srv.URL + "/", "upload_base_url": f.srv.URL}
	for k, v := range extra {
		s[k] = v
	}
	c, err := weibo.NewClient(channelConfig(s), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSendText(t *testing.T) {
	f := newFakeAPI(t)
	f.answer = func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":3475071227451999,"created_at":"Thu Nov 27 16:05:00 +0800 2025","text":"ok"}`)
	}
	c := newClient(t, f, nil)
	text := "您的诉求已办结：\"路灯已修复\" & 感谢监督 <12345>"
	if err := c.SendText(context.Background(), senderUID, text); err != nil {
		t.Fatal(err)
	}
	r := f.reqs[0]
	if r.Method != http.MethodPost || r.URL.Path != "/2/messages/reply.json" || r.URL.Query().Get("access_token") != accessToken {
		t.Fatalf("request %s %s", r.Method, r.URL)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Fatalf("content type %q", ct)
	}
	form, err := url.ParseQuery(f.bodies[0])
	if err != nil {
		t.Fatal(err)
	}
	if form.Get("type") != "text" || form.Get("receiver_id") != senderUID || form.Get("save_sender_box") != "1" {
		t.Fatalf("form %v", form)
	}
	// data is urlencode(JSON) inside the form: decode the form (above), then the value.
	plain, err := url.QueryUnescape(form.Get("data"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal([]byte(plain), &d); err != nil || d.Text != text {
		t.Fatalf("data %q: %v %q", plain, err, d.Text)
	}

	// save_sender_box: false, and a long text cut under 300 runes.
	c = newClient(t, f, map[string]any{"save_sender_box": false})
	if err := c.SendText(context.Background(), senderUID, strings.Repeat("长", 400)); err != nil {
		t.Fatal(err)
	}
	form, _ = url.ParseQuery(f.bodies[1])
	plain, _ = url.QueryUnescape(form.Get("data"))
	_ = json.Unmarshal([]byte(plain), &d)
	if form.Get("save_sender_box") != "0" || utf8.RuneCountInString(d.Text) != 299 {
		t.Fatalf("form %v, %d runes", form, utf8.RuneCountInString(d.Text))
	}
}

func TestSendTextErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		status    int
		body      string
		wantCode  int
		temporary bool
	}{
		{"error_code with 200", 200, `{"request":"/2/messages/reply.json","error_code":21327,"error":"expired_token"}`, 21327, false},
		{"error_code as a string", 400, `{"request":"/2/messages/reply.json","error_code":"10023","error":"User requests out of rate limit!"}`, 10023, true},
		{"outside the window", 403, `{"request":"/2/messages/reply.json","error_code":20306,"error":"reply not allowed"}`, 20306, false},
		{"server error without JSON", 502, `<html>bad gateway</html>`, 0, true},
		{"result false", 200, `{"result":false}`, 0, false},
		{"200 not JSON", 200, `OK`, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.answer = func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}
			err := newClient(t, f, nil).SendText(context.Background(), senderUID, "工单已办结")
			var apiErr *weibo.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("err %v (%T), want *APIError", err, err)
			}
			if apiErr.Status != tc.status || apiErr.Code != tc.wantCode || apiErr.Temporary() != tc.temporary {
				t.Fatalf("%+v temporary=%v", apiErr, apiErr.Temporary())
			}
			if strings.Contains(err.Error(), accessToken) {
				t.Fatal("error contains the token")
			}
		})
	}
}

func TestSendTextRefusesBadInput(t *testing.T) {
	f := newFakeAPI(t)
	f.answer = func(w http.ResponseWriter, _ *http.Request) { t.Error("request sent") }
	c := newClient(t, f, nil)
	for _, tc := range [][2]string{{"abc", "hi"}, {"", "hi"}, {senderUID, "  "}} {
		if err := c.SendText(context.Background(), tc[0], tc[1]); err == nil {
			t.Errorf("%q %q: no error", tc[0], tc[1])
		}
	}
}

// TestTransportErrorsHideToken: the URL carries the access token; net/http's errors quote the
// URL, and these errors are logged by jobs.
func TestTransportErrorsHideToken(t *testing.T) {
	f := newFakeAPI(t)
	f.answer = func(w http.ResponseWriter, r *http.Request) { time.Sleep(200 * time.Millisecond) }
	c := newClient(t, f, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := c.SendText(ctx, senderUID, "hi")
	if err == nil || strings.Contains(err.Error(), accessToken) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	_, err = c.Download(ctx, "821804469")
	if err == nil || strings.Contains(err.Error(), accessToken) {
		t.Fatalf("download err %v", err)
	}
}

func TestNoRedirects(t *testing.T) {
	f := newFakeAPI(t)
	var hits int
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer other.Close()
	f.answer = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal?"+r.URL.RawQuery, http.StatusFound)
	}
	if err := newClient(t, f, nil).SendText(context.Background(), senderUID, "hi"); err == nil {
		t.Fatal("a redirect counted as sent")
	}
	if hits != 0 {
		t.Fatal("redirect followed")
	}
}

func TestDownload(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 64)...)
	f := newFakeAPI(t)
	f.answer = func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("fid") {
		case "1":
			w.Header().Set("Content-Type", "audio/amr")
			_, _ = w.Write([]byte("#!AMR\n..."))
		case "2":
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write(png)
		case "3":
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
			_, _ = io.WriteString(w, `{"error":"file not found","error_code":20101,"request":"/2/mss/msget"}`)
		case "4":
			w.Header().Set("Content-Type", "image/jpeg")
			_, _ = w.Write(bytes.Repeat([]byte{0xff}, 5000))
		case "5":
			w.WriteHeader(http.StatusNotFound)
		}
	}
	c := newClient(t, f, map[string]any{"max_media_bytes": 4096})
	m, err := c.Download(context.Background(), "1")
	if err != nil || m.ContentType != "audio/amr" || string(m.Data) != "#!AMR\n..." {
		t.Fatalf("%+v %v", m, err)
	}
	r := f.reqs[0]
	if r.Method != http.MethodGet || r.URL.Path != "/2/mss/msget" || r.URL.Query().Get("access_token") != accessToken || r.URL.Query().Get("fid") != "1" {
		t.Fatalf("request %s %s", r.Method, r.URL)
	}
	if m, err := c.Download(context.Background(), "2"); err != nil || m.ContentType != "image/png" {
		t.Fatalf("sniffed: %q %v", m.ContentType, err)
	}
	var apiErr *weibo.APIError
	if _, err := c.Download(context.Background(), "3"); !errors.As(err, &apiErr) || apiErr.Code != 20101 {
		t.Fatalf("JSON error: %v", err)
	}
	if _, err := c.Download(context.Background(), "4"); !errors.Is(err, weibo.ErrMediaTooLarge) {
		t.Fatalf("too large: %v", err)
	}
	if _, err := c.Download(context.Background(), "5"); !errors.As(err, &apiErr) || apiErr.Status != 404 {
		t.Fatalf("404: %v", err)
	}
	if _, err := c.Download(context.Background(), "a&fid=other"); err == nil {
		t.Fatal("file id with URL syntax accepted")
	}
}

func TestNewClientNeedsToken(t *testing.T) {
	_, err := weibo.NewClient(channelConfig(nil), nil)
	if err == nil || !strings.Contains(err.Error(), "channels[weibo-main].access_token") {
		t.Fatalf("err %v", err)
	}
}

func TestCanReply(t *testing.T) {
	now := time.Date(2025, 11, 29, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		last    time.Time
		mention bool
		sent    int
		want    bool
	}{
		{"never wrote", time.Time{}, false, 0, false},
		{"an hour ago", now.Add(-time.Hour), false, 0, true},
		{"many replies in the window", now.Add(-time.Hour), false, 12, true},
		{"exactly 48 h", now.Add(-48 * time.Hour), false, 3, true},
		{"just past 48 h", now.Add(-48*time.Hour - time.Second), false, 0, false},
		{"mention, no reply yet", now.Add(-time.Hour), true, 0, true},
		{"mention, replied once", now.Add(-time.Hour), true, 1, false},
		{"mention, past 48 h", now.Add(-49 * time.Hour), true, 0, false},
		{"clock skew: last in the future", now.Add(time.Minute), false, 0, true},
	} {
		if got := weibo.CanReply(tc.last, tc.mention, tc.sent, now); got != tc.want {
			t.Errorf("%s: %v", tc.name, got)
		}
	}
}

// The notifier falls back to SMS on intake.ErrCannotDeliver, so only refusals that will not
// change by retrying may carry it; rate limits and outages must stay retryable.
func TestSenderMapsRefusalsForTheNotifier(t *testing.T) {
	for _, tc := range []struct {
		name          string
		status        int
		body          string
		cannotDeliver bool
	}{
		{"outside the 48-hour window", 403, `{"request":"/2/messages/reply.json","error_code":20306,"error":"reply not allowed"}`, true},
		{"expired token", 200, `{"request":"/2/messages/reply.json","error_code":21327,"error":"expired_token"}`, true},
		{"rate limited", 400, `{"request":"/2/messages/reply.json","error_code":10023,"error":"User requests out of rate limit!"}`, false},
		{"outage", 503, `<html>unavailable</html>`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t)
			f.answer = func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}
			_, err := weibo.Sender{Client: newClient(t, f, nil)}.Send(context.Background(), intake.Outgoing{Address: senderUID, Text: "工单已办结"})
			if err == nil {
				t.Fatal("a refused message reported as sent")
			}
			if errors.Is(err, intake.ErrCannotDeliver) != tc.cannotDeliver {
				t.Fatalf("cannot deliver = %v, want %v: %v", !tc.cannotDeliver, tc.cannotDeliver, err)
			}
		})
	}

	f := newFakeAPI(t)
	f.answer = func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"id":3475071227451999,"text":"ok"}`)
	}
	long := strings.Repeat("办", 400)
	if _, err := (weibo.Sender{Client: newClient(t, f, nil)}).Send(context.Background(), intake.Outgoing{Address: senderUID, Text: long}); err != nil {
		t.Fatal(err)
	}
	form, _ := url.ParseQuery(f.bodies[0])
	if form.Get("receiver_id") != senderUID {
		t.Fatalf("form %v", form)
	}
	plain, _ := url.QueryUnescape(form.Get("data"))
	var d struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal([]byte(plain), &d); err != nil || utf8.RuneCountInString(d.Text) >= 300 {
		t.Fatalf("a long notification was not cut to Weibo's limit: %d runes, %v", utf8.RuneCountInString(d.Text), err)
	}
}
