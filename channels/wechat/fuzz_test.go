package wechat_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/internal/app"

	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
)

// checkAnswer is what every push must get, whatever its body: no 5xx (the Receiver never
// fails here), no panic, the Receiver called at most once and only for a 200, and a 200 is either
// "success" or a passive reply.
func checkAnswer(t *testing.T, h *harness, rec *httptest.ResponseRecorder, encrypted bool) {
	t.Helper()
	msgs, events := h.recv.calls()
	calls := len(msgs) + len(events)
	switch rec.Code {
	case http.StatusOK:
		if calls > 1 {
			t.Fatalf("Receiver called %d times", calls)
		}
		if rec.Body.String() != "success" {
			if calls != 1 {
				t.Fatalf("reply without a Receiver call: %q", rec.Body.String())
			}
			readReply(t, response{status: rec.Code, body: rec.Body.String(), contentType: rec.Header().Get("Content-Type")}, encrypted)
		}
	case http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge:
		if calls != 0 {
			t.Fatalf("refused with %d but the Receiver was called", rec.Code)
		}
	default:
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
}

func fuzzSeeds(f *testing.F) {
	for _, tc := range messageCases {
		f.Add(tc.body)
	}
	f.Add(textBody + "x")
	f.Add(`<!DOCTYPE xml [<!ENTITY x "y">]>` + textBody)
	f.Add(withField("Content", "<![CDATA[]]>"))
	f.Add(withField("CreateTime", "99999999999999999999"))
}

// FuzzPlainPush sends fuzzed bodies, correctly signed, to a plain-mode channel.
func FuzzPlainPush(f *testing.F) {
	fuzzSeeds(f)
	h := newHarness(f, nil)
	handler := h.srv.Config.Handler
	f.Fuzz(func(t *testing.T, body string) {
		h.recv.reset()
		req, err := acct.Build("http://gateway/hooks/wechat/"+chPlain, wxtest.Request{Timestamp: requestTS, Nonce: nonce, Body: body})
		if err != nil {
			t.Skip()
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		checkAnswer(t, h, rec, false)
	})
}

// FuzzSafePush encrypts fuzzed message XML correctly and sends it to a safe-mode channel, so
// the decrypted document goes through the same checks as a plaintext one.
func FuzzSafePush(f *testing.F) {
	fuzzSeeds(f)
	h := newHarness(f, nil)
	handler := h.srv.Config.Handler
	f.Fuzz(func(t *testing.T, body string) {
		h.recv.reset()
		req, err := acct.Build("http://gateway/hooks/wechat/"+chSafe, wxtest.Request{Timestamp: requestTS, Nonce: nonce, Body: body, Safe: true})
		if err != nil {
			t.Skip()
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		checkAnswer(t, h, rec, true)
	})
}

// FuzzSafeCiphertext signs arbitrary Encrypt values (as a sender holding the token could):
// decryption failures must be 4xx.
func FuzzSafeCiphertext(f *testing.F) {
	f.Add("")
	f.Add("AAAA")
	for _, tc := range messageCases[:3] {
		enc, _ := wxtest.Seal(acct.EncodingAESKey, acct.AppID, make([]byte, 16), []byte(tc.body))
		f.Add(enc)
		f.Add(enc[:len(enc)-8])
	}
	h := newHarness(f, nil)
	handler := h.srv.Config.Handler
	f.Fuzz(func(t *testing.T, enc string) {
		if strings.Contains(enc, "]]>") {
			t.Skip() // cannot be carried in the CDATA envelope
		}
		h.recv.reset()
		req, err := acct.Build("http://gateway/hooks/wechat/"+chSafe, wxtest.Request{Timestamp: requestTS, Nonce: nonce, Safe: true, EncryptOverride: &enc})
		if err != nil {
			t.Skip()
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		checkAnswer(t, h, rec, true)
	})
}

// constReceiver answers every message like the core would for a new case, without recording.
type constReceiver struct{}

func (constReceiver) Receive(context.Context, app.Message) (app.Reply, error) {
	return app.Reply{Text: "您的诉求已受理，工单编号WH2026112700042，查询码 381920。我们将在1个工作日内转交相关部门办理。"}, nil
}
func (constReceiver) Event(context.Context, app.Event) (app.Reply, error) {
	return app.Reply{}, nil
}

// BenchmarkSafeModeText is the adapter's cost per safe-mode text message: signature checks,
// decryption, parsing, the Receiver call (constant) and the encrypted reply, through echo's
// router without a network.
func BenchmarkSafeModeText(b *testing.B) { benchPush(b, chSafe, true) }

// BenchmarkPlainText is the same in plain mode.
func BenchmarkPlainText(b *testing.B) { benchPush(b, chPlain, false) }

func benchPush(b *testing.B, channel string, safe bool) {
	h := serve(b, constReceiver{}, nil, nil)
	handler := h.srv.Config.Handler
	proto, err := acct.Build("http://gateway/hooks/wechat/"+channel, wxtest.Request{Timestamp: requestTS, Nonce: nonce, Body: messageCases[0].body, Safe: safe})
	if err != nil {
		b.Fatal(err)
	}
	rc, _ := proto.GetBody()
	var body bytes.Buffer
	_, _ = body.ReadFrom(rc)
	target := proto.URL.String()
	b.ReportAllocs()
	b.SetBytes(int64(body.Len()))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, target, bytes.NewReader(body.Bytes()))
			rec := httptest.NewRecorder()
			handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "<xml>") {
				b.Fatalf("status %d %s", rec.Code, rec.Body.String())
			}
		}
	})
}
