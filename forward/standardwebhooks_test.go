package forward_test

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hotline12345/intake-gateway/forward"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

// A case system configured for Standard Webhooks verifies deliveries with the specification's
// own Go library, a second implementation: the secret in its whsec_ form, the body as received.
func TestStandardWebhooksSignatureVerifiesWithTheReferenceLibrary(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	verifier, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		verified []string
		refused  int
	)
	cs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if err := verifier.Verify(body, r.Header); err != nil || r.Header.Get("X-Intake-Signature") != "" {
			refused++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		verified = append(verified, r.Header.Get("webhook-id"))
		w.WriteHeader(http.StatusOK)
	}))
	defer cs.Close()

	h := sqliteHarness(t)
	st := h.open()
	w := forward.NewWorker(st, fwConfig(), []forward.CaseSystem{{Name: "default", URL: cs.URL, Secret: secret, Signature: "standard-webhooks"}}, nil, nil, nil, nil)
	work(t, st, riverConfig(w))
	nc := storetest.NewCase("rest:crm", "swh-1", time.Now().UTC())
	if _, err := st.CreateCase(context.Background(), nc); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "delivered", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(verified) > 0 || refused > 0
	})
	mu.Lock()
	defer mu.Unlock()
	if refused != 0 || len(verified) != 1 || verified[0] != nc.Case.ID {
		t.Fatalf("verified %v (webhook-id should be the case id for case.created), refused %d", verified, refused)
	}
}

// The signing function agrees with the reference library byte for byte, and a changed body or
// another key does not verify.
func TestStandardWebhookHeaders(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	body := []byte(`{"id":"x","text":"路灯坏了"}`)
	now := time.Now()
	h := forward.StandardWebhookHeaders(key, "case-1", now, body)
	ref, err := standardwebhooks.NewWebhookRaw(key)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ref.Sign("case-1", time.Unix(now.Unix(), 0), body)
	if err != nil {
		t.Fatal(err)
	}
	if h["webhook-signature"] != want {
		t.Fatalf("signature %q, reference %q", h["webhook-signature"], want)
	}
	header := http.Header{}
	for k, v := range h {
		header.Set(k, v)
	}
	if err := ref.Verify([]byte(`{"id":"x","text":"路灯好了"}`), header); err == nil {
		t.Fatal("a changed body verifies")
	}
	other, _ := standardwebhooks.NewWebhookRaw([]byte("another key of thirty-two bytes!"))
	if err := other.Verify(body, header); err == nil {
		t.Fatal("another key verifies")
	}
}
