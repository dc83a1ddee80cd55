package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
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

// The modes the chaos suite drives: what the gateway sees and what the fake counts as received.
func TestModes(t *testing.T) {
	cs := newCaseSystem(modeNormal, "", 300*time.Millisecond, false)
	srv := httptest.NewServer(cs.handler())
	defer srv.Close()
	deliver := func(client *http.Client, id string) (int, error) {
		req, _ := http.NewRequest("POST", srv.URL+"/cases",
			strings.NewReader(`{"id":"`+id+`","case_no":"CH1","channel_id":"rest:x","external_id":"k-`+id+`"}`))
		req.Header.Set("Idempotency-Key", id)
		req.Header.Set("X-Intake-Event", "case.created")
		res, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		res.Body.Close()
		return res.StatusCode, nil
	}
	setMode := func(m string) {
		t.Helper()
		res, err := http.Post(srv.URL+"/admin/mode?m="+m, "", nil)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("mode %s: %v %v", m, res, err)
		}
	}
	received := func() []Received {
		t.Helper()
		res, err := http.Get(srv.URL + "/admin/received")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out []Received
		dec := json.NewDecoder(res.Body)
		for dec.More() {
			var r Received
			if err := dec.Decode(&r); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}

	if code, err := deliver(http.DefaultClient, "a"); err != nil || code != 201 {
		t.Fatalf("normal: %d %v", code, err)
	}
	setMode(modeFail)
	if code, err := deliver(http.DefaultClient, "b"); err != nil || code != 503 {
		t.Fatalf("fail: %d %v, want 503", code, err)
	}
	setMode(modeHang)
	short := &http.Client{Timeout: 200 * time.Millisecond}
	if _, err := deliver(short, "c"); err == nil {
		t.Fatal("hang: a request was answered")
	}
	// A held request is answered once the case system recovers.
	done := make(chan int, 1)
	go func() { code, _ := deliver(http.DefaultClient, "d"); done <- code }()
	time.Sleep(100 * time.Millisecond)
	select {
	case code := <-done:
		t.Fatalf("hang: answered %d before the mode changed", code)
	default:
	}
	setMode(modeNormal)
	if code := <-done; code != 201 {
		t.Fatalf("held request after recovery: %d, want 201", code)
	}
	setMode(modeSlow)
	if code, err := deliver(http.DefaultClient, "e"); err != nil || code != 201 {
		t.Fatalf("slow: %d %v", code, err)
	}
	if res, _ := http.Post(srv.URL+"/admin/mode?m=broken", "", nil); res.StatusCode != 400 {
		t.Fatalf("unknown mode: %d, want 400", res.StatusCode)
	}

	var keys []string
	for _, r := range received() {
		keys = append(keys, r.Key)
		if r.ExternalID != "k-"+r.Key || r.ID != r.Key || r.Event != "case.created" {
			t.Errorf("received record %+v does not carry the delivery's case", r)
		}
	}
	if got := strings.Join(keys, ","); got != "a,d,e" {
		t.Fatalf("received %s, want a,d,e (failed and abandoned deliveries are not received)", got)
	}
}
