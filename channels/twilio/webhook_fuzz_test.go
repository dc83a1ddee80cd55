package twilio_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hotline12345/intake-gateway/internal/app"
)

// FuzzSMSWebhook posts arbitrary, correctly signed form bodies through the adapter. Whatever
// the body: no panic, only 200/400/413, nothing passed on unless 200, and what is passed on
// holds the promised invariants.
func FuzzSMSWebhook(f *testing.F) {
	for _, b := range []string{bodyPlain, bodyStructured, bodyFullWidth, bodyMMS, bodyMMSNoText,
		"MessageSid=SM1&From=1&NumMedia=1&MediaUrl0=http%3A%2F%2Fx&MediaUrl0=http%3A%2F%2Fy",
		"MessageSid=SM1&From=1&Body=%FF", "MessageSid=SM1&From=1&MediaContentType0=image%2Fpng",
		"MessageSid=SM1&From=1&NumMedia=01", "a=%zz", ""} {
		f.Add(b)
	}
	rcv := &fakeReceiver{reply: app.Reply{Text: "已受理"}}
	e, _ := newServer(f, setup{receiver: rcv})
	f.Fuzz(func(t *testing.T, body string) {
		params, perr := url.ParseQuery(body)
		sig := sign(testToken, publicBase+smsPath, params)
		rcv.reset()
		before := 0
		rec := post(e, smsPath, body, sig)
		msgs := rcv.received()
		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
			if len(msgs) != before {
				t.Fatalf("refused (%d %s) but passed on", rec.Code, rec.Body)
			}
			return
		default:
			t.Fatalf("status %d %s for %q", rec.Code, rec.Body, body)
		}
		if perr != nil {
			t.Fatalf("accepted a body that does not parse: %q", body)
		}
		if len(msgs) != before+1 {
			t.Fatal("accepted but not passed on")
		}
		sub := msgs[len(msgs)-1].Submission
		if sub.ExternalID == "" || sub.ExternalID != strings.TrimSpace(params.Get("MessageSid")) {
			t.Fatalf("external id %q", sub.ExternalID)
		}
		if sub.Citizen.Phone == "" {
			t.Fatal("no phone")
		}
		n, _ := strconv.Atoi(params.Get("NumMedia"))
		if len(sub.Attachments) != n {
			t.Fatalf("%d attachments, NumMedia %d", len(sub.Attachments), n)
		}
		for _, a := range sub.Attachments {
			if !strings.HasPrefix(a.URL, "http://") && !strings.HasPrefix(a.URL, "https://") {
				t.Fatalf("attachment URL %q", a.URL)
			}
		}
		for _, s := range []string{sub.Text, sub.Citizen.Name, sub.Citizen.Phone} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 passed on: %q", s)
			}
		}
		if sub.PayloadHash == "" || len(sub.Raw.Body) != len(body) {
			t.Fatal("raw payload or hash missing")
		}
	})
}

// BenchmarkSMSWebhook is one inbound SMS through the adapter: body read, signature, parsing,
// a fake Receiver, TwiML answer.
func BenchmarkSMSWebhook(b *testing.B) {
	for _, c := range []struct{ name, body string }{{"plain", bodyPlain}, {"structured", bodyStructured}, {"mms", bodyMMS}} {
		b.Run(c.name, func(b *testing.B) {
			e, _ := newServer(b, setup{other: benchReceiver{}})
			sig := signBody(b, testToken, publicBase+smsPath, c.body)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, smsPath, strings.NewReader(c.body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Twilio-Signature", sig)
				rec := httptest.NewRecorder()
				e.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
