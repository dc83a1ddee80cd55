package channels_test

import (
	"context"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
)

// MemoryNonces, what an adapter uses without a store, keeps the store's rules: a signature is
// good for its first body and retries of it until it expires.
func TestMemoryNonces(t *testing.T) {
	var m channels.MemoryNonces
	t0 := time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)
	claim := func(sig, body string, at time.Time) bool {
		t.Helper()
		ok, err := m.ClaimNonce(context.Background(), intake.NonceClaim{ChannelID: "wx", Signature: sig, BodyHash: body, At: at, ExpiresAt: t0.Add(5 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("s1", "a", t0) || !claim("s1", "a", t0.Add(time.Second)) {
		t.Fatal("first use or retry refused")
	}
	if claim("s1", "b", t0.Add(2*time.Second)) {
		t.Fatal("another body accepted")
	}
	if !claim("s1", "b", t0.Add(6*time.Minute)) {
		t.Fatal("an expired signature still bound")
	}
	if !claim("s2", "x", t0) || claim("s2", "y", t0.Add(5*time.Minute)) {
		t.Fatal("a signature is bound up to and including its expiry")
	}
}
