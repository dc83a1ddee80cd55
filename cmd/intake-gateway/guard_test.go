package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/internal/logging"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

// plainGateway assembles a gateway, as serve does, with a WeChat channel in plaintext mode.
func plainGateway(t *testing.T, dbURL string) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	yaml := fmt.Sprintf(`database: { url: %q, sqlite_path: %q }
log: { level: error }
channels:
  - { id: wechat-plain, type: wechat, app_id: %s, app_secret: secret, token: %s, mode: plain, account_id: %s }
`, dbURL, filepath.Join(dir, "g.db"), e2eAccount.AppID, e2eAccount.Token, e2eAccount.GhID)
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, []string{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := assemble(context.Background(), cfg, logging.New(io.Discard, "error", "json"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.handler)
	t.Cleanup(func() { srv.Close(); a.Close() })
	return srv
}

// Two replicas on one database: a plaintext push's query string, captured at one, carries no
// other body at the other — the gateway wires the store's nonces into its channels, not a
// per-process memory.
func TestReplicasShareTheReplayGuard(t *testing.T) {
	url := pgtest.NewDatabase(t, "", nil)
	a, b := plainGateway(t, url), plainGateway(t, url)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	first := textMsg("oCitizenR", "24312345678909001", "小区门口路灯坏了一周")
	req, err := e2eAccount.Build(a.URL+"/hooks/wechat/wechat-plain", wxtest.Request{Timestamp: ts, Nonce: "31337", Body: first})
	if err != nil {
		t.Fatal(err)
	}
	query := req.URL.RawQuery
	send := func(srv *httptest.Server, body string) (int, string) {
		t.Helper()
		res, err := http.Post(srv.URL+"/hooks/wechat/wechat-plain?"+query, "text/xml", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	status, reply := send(a, first)
	if status != http.StatusOK || !strings.Contains(reply, "工单编号") {
		t.Fatalf("first push: %d %s", status, reply)
	}
	if status, body := send(b, textMsg("oCitizenR", "24312345678909002", "查询")); status != http.StatusForbidden {
		t.Fatalf("the query string with another body at the other replica: %d %s", status, body)
	}
	if status, again := send(b, first); status != http.StatusOK || again[strings.Index(again, "<Content>"):] != reply[strings.Index(reply, "<Content>"):] {
		t.Fatalf("the platform's retry at the other replica: %d %s", status, again)
	}
}
