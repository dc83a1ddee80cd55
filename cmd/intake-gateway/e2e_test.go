package main

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
	"github.com/hotline12345/intake-gateway/config"
	"github.com/hotline12345/intake-gateway/internal/logging"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

// The end-to-end tests assemble the whole gateway from a config file, exactly as serve does,
// and drive it over HTTP as the platforms and hotline systems would.

var e2eAccount = wxtest.Account{
	Token: "hotlinetoken2026", EncodingAESKey: "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
	AppID: "wx5f2a1c3d4e5f6a7b", GhID: "gh_0a1b2c3d4e5f",
}

const e2eKey = "e2e-key"

// assembleForTest builds the gateway on dbURL (empty: SQLite) with a safe-mode WeChat channel;
// extra YAML is appended to the config.
func assembleForTest(t *testing.T, dbURL string, extra ...string) *httptest.Server {
	t.Helper()
	dir := t.TempDir()
	yaml := fmt.Sprintf(`database: { url: %q, sqlite_path: %q }
log: { level: error }
api_keys: [{ name: crm, sha256: "%s", scopes: [submit, read] }]
channels:
  - id: wechat-main
    type: wechat
    app_id: %s
    app_secret: secret
    token: %s
    encoding_aes_key: %s
    mode: safe
    account_id: %s
    menu: { HOW: how_to_submit }
`, dbURL, filepath.Join(dir, "e2e.db"), sha(e2eKey), e2eAccount.AppID, e2eAccount.Token, e2eAccount.EncodingAESKey, e2eAccount.GhID)
	yaml += strings.Join(extra, "\n")
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if err := checkChannels(cfg, io.Discard); err != nil {
		t.Fatal(err)
	}
	a, err := assemble(context.Background(), cfg, logging.New(testLog{t}, "error", "text"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.handler)
	t.Cleanup(func() { srv.Close(); a.Close() })
	return srv
}

// testLog writes the gateway's log lines to the test's log: shown when a test fails or runs
// with -v, and never interleaved with another test's.
type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func sha(s string) string {
	out, _ := runSHA(s)
	return out
}

type wechatReply struct {
	Encrypt      string `xml:"Encrypt"`
	MsgSignature string `xml:"MsgSignature"`
	TimeStamp    string `xml:"TimeStamp"`
	Nonce        string `xml:"Nonce"`
}

// pushText sends a safe-mode text message and returns the decrypted reply's Content (or the
// plain body when it is not an envelope).
func push(t *testing.T, srv *httptest.Server, body string) (int, string) {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := e2eAccount.Build(srv.URL+"/hooks/wechat/wechat-main", wxtest.Request{Timestamp: ts, Nonce: "42", Body: body, Safe: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var env wechatReply
	if xml.Unmarshal(raw, &env) != nil || env.Encrypt == "" {
		return res.StatusCode, string(raw)
	}
	plain, err := e2eAccount.OpenReply(wxtest.EncryptedReply{Encrypt: env.Encrypt, MsgSignature: env.MsgSignature, TimeStamp: env.TimeStamp, Nonce: env.Nonce})
	if err != nil {
		t.Fatalf("reply does not open: %v", err)
	}
	var msg struct {
		Content string `xml:"Content"`
		ToUser  string `xml:"ToUserName"`
	}
	if err := xml.Unmarshal(plain, &msg); err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, msg.Content
}

func textMsg(openid, msgID, text string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%s</MsgId></xml>`,
		e2eAccount.GhID, openid, time.Now().Unix(), text, msgID)
}

func imageMsg(openid, msgID string) string {
	return fmt.Sprintf(`<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl><MediaId><![CDATA[media_%s]]></MediaId><MsgId>%s</MsgId></xml>`,
		e2eAccount.GhID, openid, time.Now().Unix(), msgID, msgID)
}

func runE2E(t *testing.T, srv *httptest.Server) {
	// WeChat's retry is the same message XML (CreateTime is the message's, not the push's).
	first := textMsg("oCitizen1", "24312345678901234", "小区物业拒绝移交业主资料，请协调处理")
	status, reply := push(t, srv, first)
	if status != 200 || !strings.Contains(reply, "工单编号") {
		t.Fatalf("text message: %d %q", status, reply)
	}
	caseNo := reply[strings.Index(reply, "WH") : strings.Index(reply, "WH")+15]

	// WeChat's retry of the same MsgId gets the same answer; 10 racing copies too.
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, again := push(t, srv, first); again != reply {
				t.Errorf("retry answered %q, first %q", again, reply)
			}
		}()
	}
	wg.Wait()

	// The photo that follows joins the case.
	if _, sup := push(t, srv, imageMsg("oCitizen1", "24312345678901235")); !strings.Contains(sup, caseNo) || !strings.Contains(sup, "补充") {
		t.Fatalf("photo reply %q should say it joined %s", sup, caseNo)
	}
	// 查询 answers with the case's status.
	if _, st := push(t, srv, textMsg("oCitizen1", "24312345678901236", "查询")); !strings.Contains(st, caseNo) || !strings.Contains(st, "已受理") {
		t.Fatalf("status query: %q", st)
	}

	// The hotline system sees one case, with the photo, and two queued deliveries.
	req, _ := http.NewRequest("GET", srv.URL+"/v1/cases/"+caseNo, nil)
	req.Header.Set("Authorization", "Bearer "+e2eKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var c struct {
		Channel    string `json:"channel"`
		ExternalID string `json:"external_id"`
		Citizen    struct {
			WechatOpenid string `json:"wechat_openid"`
		}
		Attachments []struct {
			MediaID string `json:"media_id"`
		}
		Deliveries []struct{ Event string }
	}
	if err := json.NewDecoder(res.Body).Decode(&c); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET case: %d %v", res.StatusCode, err)
	}
	if c.Channel != "wechat" || c.ExternalID != "24312345678901234" || c.Citizen.WechatOpenid != "oCitizen1" ||
		len(c.Attachments) != 1 || c.Attachments[0].MediaID != "media_24312345678901235" || len(c.Deliveries) != 2 {
		t.Fatalf("case as the hotline system sees it: %+v", c)
	}
	list, _ := http.NewRequest("GET", srv.URL+"/v1/cases?channel=wechat", nil)
	list.Header.Set("Authorization", "Bearer "+e2eKey)
	lres, _ := http.DefaultClient.Do(list)
	var page struct{ Cases []json.RawMessage }
	_ = json.NewDecoder(lres.Body).Decode(&page)
	lres.Body.Close()
	if len(page.Cases) != 1 {
		t.Fatalf("%d wechat cases, want 1", len(page.Cases))
	}

	// A forged push is refused and changes nothing.
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	bad, _ := e2eAccount.Build(srv.URL+"/hooks/wechat/wechat-main", wxtest.Request{Timestamp: ts, Nonce: "1", Body: textMsg("oX", "99", "伪造"), Safe: true,
		Query: map[string]string{"msg_signature": "0000"}})
	bres, _ := http.DefaultClient.Do(bad)
	bres.Body.Close()
	if bres.StatusCode != 403 {
		t.Fatalf("forged push: %d", bres.StatusCode)
	}
}

func TestEndToEndWeChatSQLite(t *testing.T) {
	runE2E(t, assembleForTest(t, ""))
}

func TestEndToEndWeChatPostgres(t *testing.T) {
	runE2E(t, assembleForTest(t, pgtest.NewDatabase(t, "", nil)))
}

// A citizen who floods a channel is answered 429 (in the channel's format, with Retry-After)
// past rate_limits.sender, and nothing of the flood is stored; other citizens are served.
func TestSenderRateLimitOnWeChat(t *testing.T) {
	srv := assembleForTest(t, "", "rate_limits: { sender: { rate: 0.001, burst: 2 } }")
	count := func() int {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/cases?channel=wechat&limit=100", nil)
		req.Header.Set("Authorization", "Bearer "+e2eKey)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var page struct {
			Cases []json.RawMessage `json:"cases"`
		}
		if err := json.NewDecoder(res.Body).Decode(&page); err != nil {
			t.Fatal(err)
		}
		return len(page.Cases)
	}
	for i, text := range []string{"新问题 小区路灯坏了", "新问题 楼道垃圾没人清"} {
		if status, _ := push(t, srv, textMsg("oFlooder0000000000000000001", fmt.Sprint(7100+i), text)); status != 200 {
			t.Fatalf("message %d within the burst: %d", i+1, status)
		}
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := e2eAccount.Build(srv.URL+"/hooks/wechat/wechat-main", wxtest.Request{Timestamp: ts, Nonce: "7102",
		Body: textMsg("oFlooder0000000000000000001", "7102", "新问题 第三条"), Safe: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || strings.Contains(res.Header.Get("Content-Type"), "json") {
		t.Fatalf("past the burst: %d %v %s", res.StatusCode, res.Header, body)
	}
	if n := count(); n != 2 {
		t.Fatalf("%d cases, want the 2 within the burst", n)
	}
	if status, _ := push(t, srv, textMsg("oOtherCitizen00000000000001", "7200", "新问题 另一位市民反映噪音")); status != 200 {
		t.Fatalf("another citizen: %d", status)
	}
	if n := count(); n != 3 {
		t.Fatalf("%d cases after another citizen's message, want 3", n)
	}
}

// assembleYAML assembles a gateway from yaml, written as dir/gateway.yaml and loaded as serve
// loads its file; the caller closes it.
func assembleYAML(t *testing.T, dir, yaml string) *assembly {
	t.Helper()
	path := filepath.Join(dir, "gateway.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path, []string{})
	if err != nil {
		t.Fatal(err)
	}
	a, err := assemble(context.Background(), cfg, logging.New(testLog{t}, "error", "text"))
	if err != nil {
		t.Fatal(err)
	}
	return a
}
