package weibo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/internal/app"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/weibo"
)

var textPush = body("text", "小区门口路灯坏了", "{}")

func TestBadInput(t *testing.T) {
	// Over 64 KiB, correctly signed: the size is checked after authentication.
	big := body("text", strings.Repeat("长", 64<<10/3+1), "{}")
	cases := []struct {
		name       string
		req        request
		raw        func() *http.Request
		wantStatus int
		wantBody   string
	}{
		// Authentication of every request.
		{name: "missing signature", req: request{Body: textPush, Delete: []string{"signature"}}, wantStatus: 403, wantBody: "missing signature"},
		{name: "wrong secret", req: request{Body: textPush, Secret: "not-the-secret"}, wantStatus: 403, wantBody: "invalid signature"},
		{name: "signed with app_key", req: request{Body: textPush, Secret: "3456789012"}, wantStatus: 403, wantBody: "invalid signature"},
		{name: "signature in upper case", req: request{Body: textPush, Nonce: nonce, Query: map[string]string{"signature": strings.ToUpper(sign(appSecret, requestTS, nonce))}}, wantStatus: 403, wantBody: "invalid signature"},
		{name: "signature over another nonce", req: request{Body: textPush, Query: map[string]string{"nonce": "999"}}, wantStatus: 403, wantBody: "invalid signature"},
		{name: "truncated signature", req: request{Body: textPush, Nonce: nonce, Query: map[string]string{"signature": sign(appSecret, requestTS, nonce)[:39]}}, wantStatus: 403, wantBody: "invalid signature"},
		{name: "GET with wrong signature", req: request{Method: "GET", Query: map[string]string{"signature": "0000"}}, wantStatus: 403, wantBody: "invalid signature"},
		{name: "GET without echostr", req: request{Method: "GET", Delete: []string{"echostr"}}, wantStatus: 400, wantBody: "echostr"},
		{name: "GET with control characters in echostr", req: request{Method: "GET", Query: map[string]string{"echostr": "a\nb"}}, wantStatus: 400, wantBody: "echostr"},
		{name: "missing timestamp", req: request{Body: textPush, Delete: []string{"timestamp"}}, wantStatus: 400, wantBody: "missing timestamp"},
		{name: "missing nonce", req: request{Body: textPush, Delete: []string{"nonce"}}, wantStatus: 400, wantBody: "missing nonce"},
		{name: "non-numeric timestamp", req: request{Body: textPush, Timestamp: "17642304x0000"}, wantStatus: 400, wantBody: "invalid timestamp"},
		{name: "negative timestamp", req: request{Body: textPush, Timestamp: "-1764230400000"}, wantStatus: 400, wantBody: "invalid timestamp"},
		{name: "timestamp in seconds is stale", req: request{Body: textPush, Timestamp: "1764230400"}, wantStatus: 403, wantBody: "outside the allowed window"},
		{name: "stale timestamp", req: request{Body: textPush, Timestamp: "1764230049999"}, wantStatus: 403, wantBody: "outside the allowed window"},
		{name: "timestamp from the future", req: request{Body: textPush, Timestamp: "1764230770001"}, wantStatus: 403, wantBody: "outside the allowed window"},
		{name: "GET with stale timestamp", req: request{Method: "GET", Timestamp: "1764220400000"}, wantStatus: 403, wantBody: "outside the allowed window"},

		// Size.
		{name: "body over 64 KiB", req: request{Body: big}, wantStatus: 413, wantBody: "too large"},
		{name: "body over 64 KiB without Content-Length", raw: func() *http.Request {
			r := request{Body: big}.build()
			r.Body = io.NopCloser(strings.NewReader(big))
			r.ContentLength = -1
			return r
		}, wantStatus: 413, wantBody: "too large"},

		// JSON.
		{name: "empty body", req: request{Body: ""}, wantStatus: 400, wantBody: "malformed JSON"},
		{name: "not JSON", req: request{Body: "<xml><MsgType>text</MsgType></xml>"}, wantStatus: 400, wantBody: "malformed JSON"},
		{name: "truncated JSON", req: request{Body: textPush[:len(textPush)-1]}, wantStatus: 400, wantBody: "malformed JSON"},
		{name: "two documents", req: request{Body: textPush + textPush}, wantStatus: 400, wantBody: "data after the document"},
		{name: "array", req: request{Body: "[" + textPush + "]"}, wantStatus: 400, wantBody: "malformed JSON"},
		{name: "type not a string", req: request{Body: strings.Replace(textPush, `"type":"text"`, `"type":1`, 1)}, wantStatus: 400, wantBody: "type must be a string"},
		{name: "text not a string", req: request{Body: strings.Replace(textPush, `"text":"小区门口路灯坏了"`, `"text":{"a":1}`, 1)}, wantStatus: 400, wantBody: "text must be a string"},
		{name: "missing type", req: request{Body: strings.Replace(textPush, `"type":"text",`, ``, 1)}, wantStatus: 400, wantBody: "missing type"},

		{name: "duplicate type", req: request{Body: strings.Replace(textPush, `"type":"text"`, `"type":"text","type":"event"`, 1)}, wantStatus: 400, wantBody: "appears twice"},
		{name: "duplicate text", req: request{Body: strings.Replace(textPush, `"text":"小区门口路灯坏了"`, `"text":"小区门口路灯坏了","text":"另一段"`, 1)}, wantStatus: 400, wantBody: "appears twice"},
		{name: "duplicate sender_id", req: request{Body: strings.Replace(textPush, `"sender_id":2489518277`, `"sender_id":2489518277,"sender_id":2489518278`, 1)}, wantStatus: 400, wantBody: "appears twice"},
		{name: "duplicate member inside data", req: request{Body: body("image", "", `{"tovfid":821804469,"tovfid":821804470}`)}, wantStatus: 400, wantBody: "appears twice"},
		{name: "invalid UTF-8 in text", req: request{Body: strings.Replace(textPush, "路灯", "\xff\xfe", 1)}, wantStatus: 400, wantBody: "not valid UTF-8"},
		{name: "UTF-16 surrogate bytes", req: request{Body: strings.Replace(textPush, "路灯", "\xed\xa0\x80", 1)}, wantStatus: 400, wantBody: "not valid UTF-8"},
		{name: "created_at before 2000", req: request{Body: strings.Replace(textPush, `Thu Nov 27 16:00:00 +0800 2025`, `Fri Dec 31 23:59:59 +0000 1999`, 1)}, wantStatus: 400, wantBody: "created_at before 2000"},
		{name: "event created before 2000", req: request{Body: strings.Replace(body("event", "", `{"subtype":"follow"}`), `2025`, `1970`, 1)}, wantStatus: 400, wantBody: "created_at before 2000"},

		// IDs.
		{name: "sender_id as a string", req: request{Body: strings.Replace(textPush, `"sender_id":2489518277`, `"sender_id":"2489518277"`, 1)}, wantStatus: 400, wantBody: "sender_id must be a positive integer"},
		{name: "receiver_id as a string", req: request{Body: strings.Replace(textPush, `"receiver_id":1902538057`, `"receiver_id":"1902538057"`, 1)}, wantStatus: 400, wantBody: "receiver_id must be a positive integer"},
		{name: "sender_id fraction", req: request{Body: strings.Replace(textPush, `2489518277`, `2489518277.5`, 1)}, wantStatus: 400, wantBody: "sender_id must be"},
		{name: "sender_id exponent", req: request{Body: strings.Replace(textPush, `2489518277`, `2.489518277e9`, 1)}, wantStatus: 400, wantBody: "sender_id must be"},
		{name: "sender_id negative", req: request{Body: strings.Replace(textPush, `2489518277`, `-2489518277`, 1)}, wantStatus: 400, wantBody: "sender_id must be"},
		{name: "sender_id zero", req: request{Body: strings.Replace(textPush, `2489518277`, `0`, 1)}, wantStatus: 400, wantBody: "sender_id must be"},
		{name: "sender_id beyond int64", req: request{Body: strings.Replace(textPush, `2489518277`, `92233720368547758070`, 1)}, wantStatus: 400, wantBody: "sender_id must be"},
		{name: "sender_id null", req: request{Body: strings.Replace(textPush, `2489518277`, `null`, 1)}, wantStatus: 400, wantBody: "missing sender_id"},
		{name: "sender_id boolean", req: request{Body: strings.Replace(textPush, `2489518277`, `true`, 1)}, wantStatus: 400, wantBody: "sender_id must be"},
		{name: "missing receiver_id", req: request{Body: strings.Replace(textPush, `"receiver_id":1902538057,`, ``, 1)}, wantStatus: 400, wantBody: "missing receiver_id"},
		{name: "receiver_id of another account", req: request{Body: strings.Replace(textPush, `1902538057`, `1902538058`, 1)}, wantStatus: 403, wantBody: "receiver_id is not this account"},
		{name: "unknown type for another account", req: request{Body: strings.Replace(body("articles", "", "{}"), `1902538057`, `1902538058`, 1)}, wantStatus: 403, wantBody: "not this account"},

		// Fields of known types.
		{name: "missing created_at", req: request{Body: strings.Replace(textPush, `"created_at":"Thu Nov 27 16:00:00 +0800 2025",`, ``, 1)}, wantStatus: 400, wantBody: "created_at"},
		{name: "created_at in RFC 3339", req: request{Body: strings.Replace(textPush, `Thu Nov 27 16:00:00 +0800 2025`, `2025-11-27T16:00:00+08:00`, 1)}, wantStatus: 400, wantBody: "created_at"},
		{name: "created_at as a number", req: request{Body: strings.Replace(textPush, `"Thu Nov 27 16:00:00 +0800 2025"`, `1764230400`, 1)}, wantStatus: 400, wantBody: "created_at must be a string"},
		{name: "empty text", req: request{Body: body("text", "  ", "{}")}, wantStatus: 400, wantBody: "empty text"},
		{name: "empty mention", req: request{Body: body("mention", "", `{"subtype":"status","key":1}`)}, wantStatus: 400, wantBody: "empty text"},
		{name: "position without latitude", req: request{Body: body("position", "", `{"longitude":"122.1"}`)}, wantStatus: 400, wantBody: "latitude"},
		{name: "position out of range", req: request{Body: body("position", "", `{"longitude":"122.1","latitude":"97.5"}`)}, wantStatus: 400, wantBody: "latitude"},
		{name: "position NaN", req: request{Body: body("position", "", `{"longitude":"NaN","latitude":"NaN"}`)}, wantStatus: 400, wantBody: "latitude"},
		{name: "position data not an object", req: request{Body: body("position", "", `"122.1,37.5"`)}, wantStatus: 400, wantBody: "data must be an object"},
		{name: "image without tovfid", req: request{Body: body("image", "", `{"vfid":821804459}`)}, wantStatus: 400, wantBody: "tovfid"},
		{name: "image with a path as tovfid", req: request{Body: body("image", "", `{"tovfid":"../../etc/passwd"}`)}, wantStatus: 400, wantBody: "tovfid"},
		{name: "voice with an object as tovfid", req: request{Body: body("voice", "", `{"tovfid":{"id":1}}`)}, wantStatus: 400, wantBody: "tovfid"},
		{name: "event without subtype", req: request{Body: body("event", "", `{}`)}, wantStatus: 400, wantBody: "subtype"},
		{name: "click without key", req: request{Body: body("event", "", `{"subtype":"click"}`)}, wantStatus: 400, wantBody: "data.key"},
		{name: "subtype not a string", req: request{Body: body("event", "", `{"subtype":7}`)}, wantStatus: 400, wantBody: "data.subtype must be a string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			req := tc.raw
			if req == nil {
				req = tc.req.build
			}
			rec := h.do(req())
			if rec.Code != tc.wantStatus || !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Fatalf("got %d %q, want %d containing %q", rec.Code, rec.Body.String(), tc.wantStatus, tc.wantBody)
			}
			if msgs, evs := h.recv.calls(); len(msgs)+len(evs) != 0 {
				t.Fatal("the Receiver was called")
			}
			if strings.Contains(rec.Body.String(), "小区") || strings.Contains(rec.Body.String(), senderUID) {
				t.Fatalf("refusal quotes the input: %q", rec.Body.String())
			}
			if got := h.counter(t, "intake_weibo_rejected_total", map[string]string{"channel_id": channelID}); got != 1 {
				t.Fatalf("rejected_total %v", got)
			}
		})
	}
}

func TestWindowEdges(t *testing.T) {
	h := newHarness(t, nil)
	// The clock is requestTS + 10 s; the window is 5 min either way, inclusive.
	for ts, want := range map[string]int{
		"1764230110000": 200, // exactly 5 min old
		"1764230109999": 403,
		"1764230710000": 200, // exactly 5 min ahead
		"1764230710001": 403,
	} {
		h.recv.reset()
		if rec := h.send(request{Body: textPush, Timestamp: ts}); rec.Code != want {
			t.Errorf("timestamp %s: %d, want %d", ts, rec.Code, want)
		}
	}
	narrow := newHarness(t, map[string]any{"timestamp_window": "10s"})
	if rec := narrow.send(request{Body: textPush, Timestamp: "1764230399999"}); rec.Code != 403 {
		t.Fatalf("10s window: %d", rec.Code)
	}
}

func TestUnknownChannelAndMethod(t *testing.T) {
	h := newHarness(t, nil)
	r := request{Body: textPush}.build()
	r.URL.Path = "/hooks/weibo/other"
	if rec := h.do(r); rec.Code != http.StatusNotFound {
		t.Fatalf("unknown channel: %d", rec.Code)
	}
	r = request{Body: textPush}.build()
	r.Method = http.MethodPut
	if rec := h.do(r); rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("PUT: %d", rec.Code)
	}
}

func TestReceiverErrors(t *testing.T) {
	for _, tc := range []struct {
		err        error
		wantStatus int
	}{
		{intake.ErrUnavailable, 503},
		{context.DeadlineExceeded, 503},
		{errors.New("boom"), 500},
		{intake.Invalid("text", "too long"), 400},
		{&intake.ConflictError{Existing: &intake.Case{ExternalID: senderUID + ":x", CaseNo: "WH1"}}, 409},
	} {
		t.Run(fmt.Sprint(tc.err), func(t *testing.T) {
			var logs bytes.Buffer
			recv := &fakeReceiver{answer: func(context.Context, string) (app.Reply, error) { return app.Reply{}, tc.err }}
			h := serve(t, recv, nil, slog.New(slog.NewJSONHandler(&logs, nil)))
			rec := h.send(request{Body: textPush})
			if rec.Code != tc.wantStatus {
				t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
			}
			if strings.Contains(rec.Body.String(), senderUID) || strings.Contains(logs.String(), senderUID) || strings.Contains(logs.String(), "路灯") {
				t.Fatalf("uid or text leaked: body %q logs %s", rec.Body.String(), logs.String())
			}
		})
	}
}

// TestNoPersonalDataInInfoLogs: a handled push and a refused one log neither uid nor text at
// info level.
func TestNoPersonalDataInInfoLogs(t *testing.T) {
	var logs bytes.Buffer
	h := serve(t, &fakeReceiver{}, nil, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	h.send(request{Body: textPush})
	h.send(request{Body: strings.Replace(textPush, `1902538057`, `1902538058`, 1)})
	h.send(request{Body: body("event", "", `{"subtype":"follow"}`)})
	if out := logs.String(); strings.Contains(out, senderUID) || strings.Contains(out, "路灯") {
		t.Fatalf("logs: %s", out)
	}
	if !strings.Contains(logs.String(), "wrong_account") {
		t.Fatalf("refusal not logged: %s", logs.String())
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mutate  func(c *configT)
		wantKey string
	}{
		{"no secret", func(c *configT) { c.AppSecret = "" }, "channels[weibo-main].app_secret"},
		{"uid not numeric", func(c *configT) { c.AccountUID = "weihai12345" }, "channels[weibo-main].account_uid"},
		{"uid with leading zero", func(c *configT) { c.AccountUID = "01902538057" }, "channels[weibo-main].account_uid"},
		{"bare number window", func(c *configT) { c.Settings = map[string]any{"timestamp_window": 300} }, "timestamp_window"},
		{"window too short", func(c *configT) { c.Settings = map[string]any{"timestamp_window": "1s"} }, "channels[weibo-main].timestamp_window"},
		{"reply timeout over 4.5s", func(c *configT) { c.Settings = map[string]any{"reply_timeout": "5s"} }, "channels[weibo-main].reply_timeout"},
		{"unknown placeholder", func(c *configT) { c.Settings = map[string]any{"placeholders": map[string]any{"video": "[视频]"}} }, "placeholders.video"},
		{"bad api base", func(c *configT) { c.Settings = map[string]any{"api_base_url": "m.api.weibo.com"} }, "channels[weibo-main].api_base_url"},
		{"save_sender_box not a bool", func(c *configT) { c.Settings = map[string]any{"save_sender_box": "yes"} }, "save_sender_box"},
		{"id with a colon", func(c *configT) { c.ID = "a:b" }, ".id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := channelConfig(nil)
			tc.mutate(&c)
			_, err := weibo.New(c, channels.Deps{Receiver: &fakeReceiver{}})
			if err == nil || !strings.Contains(err.Error(), tc.wantKey) {
				t.Fatalf("err %v, want one naming %s", err, tc.wantKey)
			}
		})
	}
	// Keys of the shared conversation wiring are left alone.
	c := channelConfig(map[string]any{"menu": map[string]any{"how_to_submit": "how_to_submit"}, "placeholders": map[string]any{"image": "[照片]"}})
	if _, err := weibo.New(c, channels.Deps{Receiver: &fakeReceiver{}}); err != nil {
		t.Fatal(err)
	}
}

func TestPlaceholderSetting(t *testing.T) {
	h := newHarness(t, map[string]any{"placeholders": map[string]any{"image": "[照片]"}})
	h.send(request{Body: body("image", "", `{"tovfid":821804469}`)})
	if msgs, _ := h.recv.calls(); len(msgs) != 1 || msgs[0].Submission.Text != "[照片]" {
		t.Fatalf("messages %+v", msgs)
	}
}

type configT = channels.Config
