package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"case_no":"X"}`)
	sign := func(secret string, at time.Time, b []byte) string {
		ts := strconv.FormatInt(at.Unix(), 10)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts + "." + string(b)))
		return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
	}
	cases := []struct {
		name, header string
		want         string
	}{
		{"good", sign("s", now, body), "ok"},
		{"other secret", sign("t", now, body), "bad"},
		{"other body", sign("s", now, []byte(`{}`)), "bad"},
		{"old", sign("s", now.Add(-10*time.Minute), body), "stale"},
		{"future", sign("s", now.Add(10*time.Minute), body), "stale"},
		{"empty", "", "missing"},
		{"no v1", "t=1800000000", "missing"},
		{"not hex", "t=1800000000,v1=zz", "bad"},
	}
	for _, c := range cases {
		if got := verify("s", c.header, body, now); got != c.want {
			t.Errorf("%s: verify = %q, want %q", c.name, got, c.want)
		}
	}
}
