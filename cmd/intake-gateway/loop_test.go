package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
	"github.com/hotline12345/intake-gateway/forward"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

// The whole loop: a citizen writes on WeChat, the case reaches the case system, the case system
// resolves it, the citizen is told and asked for feedback, answers, and the answer reaches the
// case system too.
func runLoop(t *testing.T, dbURL string) {
	var (
		mu       sync.Mutex
		received []string
	)
	caseSystem := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sig := r.Header.Get("X-Intake-Signature")
		ts := strings.TrimPrefix(strings.Split(sig, ",")[0], "t=")
		var tt int64
		fmt.Sscan(ts, &tt)
		if forward.Sign("cs-secret", time.Unix(tt, 0), body) != sig {
			w.WriteHeader(401)
			return
		}
		mu.Lock()
		received = append(received, r.Header.Get("X-Intake-Event"))
		mu.Unlock()
		w.WriteHeader(201)
		_, _ = io.WriteString(w, `{"case_ref":"CS-77"}`)
	}))
	defer caseSystem.Close()
	wxAPI := wxtest.NewFakeAPI(e2eAccount.AppID, "secret")
	defer wxAPI.Close()

	dir := t.TempDir()
	yaml := fmt.Sprintf(`database: { url: %q, sqlite_path: %q }
log: { level: error }
api_keys: [{ name: case-system, sha256: "%s", scopes: [events, read] }]
case_systems: [{ name: default, url: %q, secret: cs-secret }]
forwarding: { retry_min: 50ms, retry_max: 200ms }
channels:
  - { id: wechat-main, type: wechat, app_id: %s, app_secret: secret, token: %s, encoding_aes_key: %s, mode: safe, account_id: %s, api_base_url: %q }
`, dbURL, filepath.Join(dir, "loop.db"), sha(e2eKey), caseSystem.URL, e2eAccount.AppID, e2eAccount.Token, e2eAccount.EncodingAESKey, e2eAccount.GhID, wxAPI.URL)
	a := assembleYAML(t, dir, yaml)
	srv := httptest.NewServer(a.handler)
	defer func() { srv.Close(); a.Close() }()

	_, reply := push(t, srv, textMsg("oLoop", "1001", "小区门口的路灯坏了一周了"))
	caseNo := reply[strings.Index(reply, "WH") : strings.Index(reply, "WH")+15]
	waitFor(t, "case.created at the case system", func() bool { mu.Lock(); defer mu.Unlock(); return len(received) == 1 })

	getCase := func() map[string]any {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/cases/"+caseNo, nil)
		req.Header.Set("Authorization", "Bearer "+e2eKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return m
	}
	waitFor(t, "case forwarded", func() bool { c := getCase(); return c["status"] == "forwarded" && c["case_ref"] == "CS-77" })

	event := fmt.Sprintf(`{"event_id":"cs-ev-1","type":"resolved","at":%q,"department":"市城管局","message":"路灯已更换","notify":true}`, time.Now().UTC().Format(time.RFC3339))
	req, _ := http.NewRequest("POST", srv.URL+"/v1/cases/"+caseNo+"/events", bytes.NewBufferString(event))
	req.Header.Set("Authorization", "Bearer "+e2eKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("event: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	waitFor(t, "citizen told and asked for feedback", func() bool { return len(wxAPI.Sent()) == 2 })
	sent := wxAPI.Sent()
	if !strings.Contains(fmt.Sprint(sent[0].Body), "路灯已更换") || !strings.Contains(fmt.Sprint(sent[1].Body), "满意") {
		t.Fatalf("messages to the citizen: %+v", sent)
	}
	notes := getCase()["notifications"].([]any)
	if len(notes) != 2 || notes[0].(map[string]any)["state"] != "sent" {
		t.Fatalf("notifications in the case view: %+v", notes)
	}

	_, thanks := push(t, srv, textMsg("oLoop", "1002", "1"))
	if !strings.Contains(thanks, "感谢您的评价") {
		t.Fatalf("feedback reply: %q", thanks)
	}
	waitFor(t, "case.feedback at the case system", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(received) == 2 && received[1] == "case.feedback"
	})
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

func TestWholeLoopSQLite(t *testing.T) { runLoop(t, "") }

func TestWholeLoopPostgres(t *testing.T) { runLoop(t, pgtest.NewDatabase(t, "", nil)) }
