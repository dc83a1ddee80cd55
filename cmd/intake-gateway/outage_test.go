package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

// A connection to PostgreSQL that breaks in the middle of a statement is the database being
// unavailable, like every other outage: the REST client gets 503 with Retry-After and a platform
// its channel's 5xx, so that both send again; nothing is acknowledged, and the resend succeeds
// once a fresh connection is open.
func TestConnectionCutMidQueryIsUnavailable(t *testing.T) {
	proxy := pgtest.NewProxy(t, pgtest.NewDatabase(t, "", nil))
	srv := assembleForTest(t, proxy.URL)

	t.Run("REST submission, repeated-request lookup", func(t *testing.T) {
		submit := func() *http.Response {
			t.Helper()
			req, _ := http.NewRequest("POST", srv.URL+"/v1/submissions",
				bytes.NewBufferString(`{"text":"小区门口的路灯坏了一个星期，请尽快维修","citizen":{"phone":"13800138000"}}`))
			req.Header.Set("Authorization", "Bearer "+e2eKey)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", "cut-mid-query-1")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}
		// The look-up of the citizen's recent cases, the first statement of a submission.
		cut := proxy.CutOn("FROM cases WHERE citizen_phone")
		res := submit()
		select {
		case <-cut:
		default:
			t.Fatalf("the repeated-request lookup never ran through the proxy (status %d); the test proves nothing", res.StatusCode)
		}
		if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
			t.Fatalf("cut mid-query: %d, Retry-After %q; want 503 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
			t.Fatalf("content type %q, want problem+json", ct)
		}
		if res := submit(); res.StatusCode != http.StatusCreated {
			t.Fatalf("resend after the cut: %d, want 201 (a new case: the first attempt stored nothing)", res.StatusCode)
		}
	})

	t.Run("WeChat message, message context", func(t *testing.T) {
		msg := textMsg("oCutCitizen", "24399990000000001", "楼上住户深夜装修噪音很大，请处理")
		// The retry check of the message context, the first statement of a channel message.
		cut := proxy.CutOn("FROM case_messages WHERE channel_id")
		status, body := push(t, srv, msg)
		select {
		case <-cut:
		default:
			t.Fatalf("the message lookup never ran through the proxy (WeChat got %d %q); the test proves nothing", status, body)
		}
		if status != http.StatusServiceUnavailable {
			t.Fatalf("cut mid-query: WeChat got %d %q, want 503 so that it sends the message again", status, body)
		}
		if status, reply := push(t, srv, msg); status != http.StatusOK || !strings.Contains(reply, "工单编号") {
			t.Fatalf("WeChat's resend after the cut: %d %q, want the case number", status, reply)
		}
	})
}
