package weibo_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/channels/weibo"
)

func pushSeeds(f *testing.F) {
	for _, tc := range pushCases {
		f.Add(tc.body)
	}
	f.Add(textPush + " ")
	f.Add(textPush + "{}")
	f.Add(`{"type":"text","receiver_id":1902538057,"sender_id":"2489518277"}`)
	f.Add(`{"type":"event","receiver_id":1902538057,"sender_id":2489518277,"created_at":"Thu Nov 27 16:00:00 +0800 2025","data":{"subtype":null,"key":1e999}}`)
	f.Add(`{"type":"image","receiver_id":1902538057,"sender_id":2489518277,"created_at":"Thu Nov 27 16:00:00 +0800 2025","data":[]}`)
	f.Add(`{"receiver_id":9223372036854775807,"sender_id":9223372036854775808}`)
	f.Add(`null`)
	f.Add("\xff\xfe")
}

// FuzzParsePush: the push parser never panics, and what it accepts has positive ids and a type.
func FuzzParsePush(f *testing.F) {
	pushSeeds(f)
	f.Fuzz(func(t *testing.T, body string) {
		p, err := weibo.ParsePush([]byte(body))
		if err != nil {
			if strings.Contains(err.Error(), "小区") {
				t.Fatalf("error quotes the body: %v", err)
			}
			return
		}
		if p.SenderID <= 0 || p.ReceiverID <= 0 || p.Type == "" {
			t.Fatalf("accepted %+v", p)
		}
	})
}

// FuzzPush sends fuzzed bodies, correctly signed, through the adapter: no panic, no 5xx (the
// Receiver never fails here), the Receiver called at most once and only for a 200, and a 200 is
// either empty or a passive reply.
func FuzzPush(f *testing.F) {
	pushSeeds(f)
	h := newHarness(f, nil)
	f.Fuzz(func(t *testing.T, body string) {
		h.recv.reset()
		rec := h.send(request{Body: body})
		msgs, evs := h.recv.calls()
		calls := len(msgs) + len(evs)
		switch rec.Code {
		case http.StatusOK:
			if calls > 1 {
				t.Fatalf("Receiver called %d times", calls)
			}
			if rec.Body.Len() > 0 {
				if calls != 1 {
					t.Fatalf("reply without a Receiver call: %q", rec.Body.String())
				}
				readPassive(t, rec)
			}
			for _, m := range msgs {
				if m.Submission.ExternalID == "" || m.Submission.Citizen.WeiboUID == "" || strings.TrimSpace(m.Submission.Text) == "" {
					t.Fatalf("incomplete message %+v", m.Submission)
				}
			}
		case http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge:
			if calls != 0 {
				t.Fatalf("refused with %d but the Receiver was called", rec.Code)
			}
		default:
			t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
		}
	})
}

// FuzzSignature sends fuzzed query parameters to the URL check. Only the exact signature of the
// exact timestamp and nonce, with the timestamp in the window, may pass.
func FuzzSignature(f *testing.F) {
	f.Add(sign(appSecret, requestTS, nonce), requestTS, nonce, "echo")
	f.Add(strings.ToUpper(sign(appSecret, requestTS, nonce)), requestTS, nonce, "echo")
	f.Add(sign(appSecret, requestTS, nonce)+"0", requestTS, nonce, "echo")
	f.Add(sign(appSecret, "+"+requestTS, nonce), "+"+requestTS, nonce, "echo")
	f.Add(sign(appSecret, "01764230400000", nonce), "01764230400000", nonce, "echo")
	f.Add("", "", "", "")
	f.Add(sign(appSecret, requestTS, ""), requestTS, "", "x")
	f.Add(sign(appSecret, "99999999999999999999", nonce), "99999999999999999999", nonce, "e")
	h := newHarness(f, nil)
	f.Fuzz(func(t *testing.T, sig, ts, nonce, echostr string) {
		q := url.Values{"signature": {sig}, "timestamp": {ts}, "nonce": {nonce}, "echostr": {echostr}}
		rec := httptest.NewRecorder()
		h.e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/hooks/weibo/"+channelID+"?"+q.Encode(), nil))
		switch rec.Code {
		case http.StatusOK:
			if sig != sign(appSecret, ts, nonce) {
				t.Fatalf("accepted a wrong signature %q for %q %q", sig, ts, nonce)
			}
			if rec.Body.String() != echostr {
				t.Fatalf("echoed %q, want %q", rec.Body.String(), echostr)
			}
		case http.StatusBadRequest, http.StatusForbidden:
		default:
			t.Fatalf("status %d", rec.Code)
		}
	})
}

func BenchmarkTextPush(b *testing.B) {
	h := newHarness(b, nil)
	req := request{Body: textPush}.build()
	target := req.URL.String()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(textPush))
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.e.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
		h.recv.reset()
	}
}
