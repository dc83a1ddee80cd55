package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/internal/app"

	intake "github.com/hotline12345/intake-gateway"
)

// stripeLike is configured in Go rather than YAML: HMAC-SHA256 over "<timestamp>.<body>" (a
// canonical string of a header and the body), base64 in a header, unix seconds, the platform's
// user id as sender, and the default reply (none, empty body).
func stripeLike() channels.Config {
	return channels.Config{ID: "partner", Type: "webhook", Settings: map[string]any{
		"channel_kind": "open311",
		"signature": map[string]any{
			"scheme": "hmac-sha256", "secret": "partner-secret-123", "header": "x-partner-signature",
			"encoding": "base64", "signed": []any{"header:X-Partner-Timestamp", "body"}, "separator": ".",
		},
		"timestamp": map[string]any{"header": "X-Partner-Timestamp", "format": "unix", "window": "1m"},
		"fields":    map[string]any{"external_id": "/id", "sender": "/uid", "text": "/msg"},
		"sample":    `{"id":"e1","uid":"u-77","msg":"路面塌陷"}`,
	}}
}

var partnerNow = time.Unix(1764230410, 0)

func partnerRequest(body, ts, sig string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/hooks/webhook/partner", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	if ts != "" {
		r.Header.Set("X-Partner-Timestamp", ts)
	}
	if sig != "" {
		r.Header.Set("X-Partner-Signature", sig)
	}
	return r
}

func partnerSig(ts, body string) string {
	m := hmac.New(sha256.New, []byte("partner-secret-123"))
	m.Write([]byte(ts + "." + body))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestCanonicalStringHMAC(t *testing.T) {
	h := serve(t, stripeLike(), partnerNow, nil)
	body := `{"id":"e42","uid":"u-77","msg":"人行道路面塌陷，请尽快处理"}`
	rec := h.do(partnerRequest(body, "1764230400", partnerSig("1764230400", body)))
	if rec.Code != 200 || rec.Body.Len() != 0 {
		t.Fatalf("%d %q", rec.Code, rec.Body.String())
	}
	sub := h.recv.calls()[0].Submission
	if sub.Channel != intake.ChannelOpen311 || sub.ExternalID != "e42" || sub.Metadata["sender_id"] != "u-77" || sub.Citizen != (intake.CitizenInput{}) {
		t.Fatalf("%+v", sub)
	}

	for _, tc := range []struct {
		name       string
		req        *http.Request
		wantStatus int
		wantBody   string
	}{
		// The timestamp is signed: changing it breaks the signature, so a replay cannot be
		// refreshed.
		{"timestamp changed", partnerRequest(body, "1764230405", partnerSig("1764230400", body)), 403, "invalid signature"},
		{"signed without the separator", partnerRequest(body, "1764230400", func() string {
			m := hmac.New(sha256.New, []byte("partner-secret-123"))
			m.Write([]byte("1764230400" + body))
			return base64.StdEncoding.EncodeToString(m.Sum(nil))
		}()), 403, "invalid signature"},
		{"missing timestamp header", partnerRequest(body, "", partnerSig("", body)), 400, "missing header:X-Partner-Timestamp"},
		{"stale", partnerRequest(body, "1764230340", partnerSig("1764230340", body)), 403, "outside the allowed window"},
		{"milliseconds for seconds", partnerRequest(body, "1764230400000", partnerSig("1764230400000", body)), 400, "invalid timestamp"},
		{"base64 garbage", partnerRequest(body, "1764230400", "!!!"), 403, "invalid signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.recv.reset()
			rec := h.do(tc.req)
			if rec.Code != tc.wantStatus || !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Fatalf("got %d %q, want %d containing %q", rec.Code, rec.Body.String(), tc.wantStatus, tc.wantBody)
			}
			if len(h.recv.calls()) != 0 {
				t.Fatal("the Receiver was called")
			}
		})
	}
	// URL-safe unpadded base64 of the same MAC is the same signature.
	urlSafe := strings.TrimRight(strings.NewReplacer("+", "-", "/", "_").Replace(partnerSig("1764230400", body)), "=")
	h.recv.reset()
	if rec := h.do(partnerRequest(body, "1764230400", urlSafe)); rec.Code != 200 {
		t.Fatalf("url-safe base64: %d %s", rec.Code, rec.Body.String())
	}
}

func TestBodyLimitSetting(t *testing.T) {
	cfg := stripeLike()
	cfg.Settings["max_body_bytes"] = 2048
	h := serve(t, cfg, partnerNow, nil)
	body := `{"id":"e1","uid":"u","msg":"` + strings.Repeat("a", 2048) + `"}`
	if rec := h.do(partnerRequest(body, "1764230400", partnerSig("1764230400", body))); rec.Code != 413 {
		t.Fatalf("%d", rec.Code)
	}
	r := partnerRequest(body, "1764230400", partnerSig("1764230400", body))
	r.ContentLength = -1 // chunked: the limit still holds
	if rec := h.do(r); rec.Code != 413 || len(h.recv.calls()) != 0 {
		t.Fatalf("chunked: %d", rec.Code)
	}
}

func TestWebhookReceiverErrors(t *testing.T) {
	body := `{"id":"e1","uid":"u-77","msg":"路面塌陷"}`
	for _, tc := range []struct {
		err        error
		wantStatus int
	}{
		{intake.ErrUnavailable, 503},
		{context.DeadlineExceeded, 503},
		{errors.New("boom"), 500},
		{intake.Invalid("text", "too long"), 400},
		{&intake.ConflictError{Existing: &intake.Case{ExternalID: "e1", CaseNo: "WH1"}}, 409},
	} {
		t.Run(fmt.Sprint(tc.err), func(t *testing.T) {
			var logs bytes.Buffer
			h := serve(t, stripeLike(), partnerNow, slog.New(slog.NewJSONHandler(&logs, nil)))
			h.recv.answer = func(context.Context, app.Message) (app.Reply, error) { return app.Reply{}, tc.err }
			rec := h.do(partnerRequest(body, "1764230400", partnerSig("1764230400", body)))
			if rec.Code != tc.wantStatus {
				t.Fatalf("%d %s", rec.Code, rec.Body.String())
			}
			if strings.Contains(logs.String(), "u-77") || strings.Contains(logs.String(), "塌陷") {
				t.Fatalf("logs: %s", logs.String())
			}
		})
	}
}

func TestWebhookNoPersonalDataInInfoLogs(t *testing.T) {
	var logs bytes.Buffer
	h := serve(t, loadExample(t, "cityapp.yaml"), cityNow, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo})))
	h.do(signedCity(cityReport))
	h.do(signedCity(strings.Replace(cityReport, `"lat": 37.5131`, `"lat": 137.5131`, 1)))
	if out := logs.String(); strings.Contains(out, "13800138000") || strings.Contains(out, "路灯") || strings.Contains(out, "李女士") {
		t.Fatalf("logs: %s", out)
	}
	if !strings.Contains(logs.String(), "bad_field") {
		t.Fatalf("refusal not logged: %s", logs.String())
	}
}

func TestOnlyPOSTAndConfiguredIDs(t *testing.T) {
	h := serve(t, stripeLike(), partnerNow, nil)
	r := httptest.NewRequest(http.MethodGet, "/hooks/webhook/partner", nil)
	if rec := h.do(r); rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", rec.Code)
	}
	r = httptest.NewRequest(http.MethodPost, "/hooks/webhook/other", strings.NewReader("{}"))
	if rec := h.do(r); rec.Code != http.StatusNotFound {
		t.Fatalf("other id: %d", rec.Code)
	}
}
