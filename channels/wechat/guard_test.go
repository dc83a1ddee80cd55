package wechat_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/coretest"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplates()
	os.Exit(code)
}

// coreHarness serves the test channels in front of the real core (conversation, intake service,
// store of kind): the store's nonces guard the plaintext channel, as in the gateway.
func coreHarness(t *testing.T, kind string) (*harness, *coretest.Core, *coretest.Clock) {
	t.Helper()
	h, core, clock, _ := coreHarnessLogged(t, kind)
	return h, core, clock
}

// coreHarnessLogged is coreHarness with the adapters' log lines kept.
func coreHarnessLogged(t *testing.T, kind string) (*harness, *coretest.Core, *coretest.Clock, *logBuffer) {
	t.Helper()
	clock := coretest.NewClock(testNow)
	core := coretest.New(t, kind, clock, func(o *app.ConversationOptions) {
		o.Conversation = app.ConversationSettings{Window: 10 * time.Minute, NewMatterPrefixes: []string{"新问题"}, QueryKeywords: []string{"查询"}}
	})
	logs := &logBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h := serveDeps(t, channels.Deps{Receiver: core.Receiver, Nonces: core.Store, Clock: clock, Logger: logger}, nil)
	return h, core, clock, logs
}

type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// textPush is a WeChat text message as WeChat sends it.
func textPush(from, msgID, content string) string {
	return `<xml><ToUserName><![CDATA[` + acct.GhID + `]]></ToUserName><FromUserName><![CDATA[` + from +
		`]]></FromUserName><CreateTime>1764230400</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[` +
		content + `]]></Content><MsgId>` + msgID + `</MsgId></xml>`
}

// captured is a plaintext push's request with its query string kept, so that it can be sent
// again with any body: what someone who saw the request on the wire holds.
func captured(t *testing.T, h *harness, ts, nonce, body string) (query string, send func(body string) response) {
	t.Helper()
	req, err := acct.Build(h.url(chPlain), wxtest.Request{Timestamp: ts, Nonce: nonce, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	query = req.URL.RawQuery
	return query, func(body string) response {
		r, err := http.NewRequest(http.MethodPost, h.url(chPlain)+"?"+query, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r.Header.Set("Content-Type", "text/xml")
		return h.do(t, r)
	}
}

// A plaintext push's signature covers timestamp and nonce, not the body. Its query string,
// captured, must be good for nothing but the platform's retry of the same body: not for a
// status query in the citizen's name, nor for a message or supplement in it, on any replica.
func TestReplayedQueryStringWithAnotherBodyIsRefused(t *testing.T) {
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		h, core, clock, logs := coreHarnessLogged(t, kind)
		first := textPush(openID, "24312345678901301", "小区门口路灯坏了一个星期，晚上很黑。")
		_, send := captured(t, h, requestTS, "770001", first)
		reply := readReply(t, send(first), false).Content
		cases := core.Cases(t)
		if len(cases) != 1 || !strings.Contains(reply, cases[0].CaseNo) {
			t.Fatalf("first push: %q, %d cases", reply, len(cases))
		}
		before := cases[0]

		for _, body := range []string{
			textPush(openID, "24312345678901302", "查询"),              // the citizen's case status
			textPush(openID, "24312345678901303", "另外楼道灯也坏了，请一起处理。"), // a supplement in their name
			textPush("oAttacker0000000000000000000", "24312345678901304", "新问题 假投诉"),
		} {
			resp := send(body)
			if resp.status != http.StatusForbidden || strings.Contains(resp.body, before.CaseNo) || strings.Contains(resp.body, before.QueryCode) {
				t.Fatalf("replayed query string with another body: %d %q", resp.status, resp.body)
			}
		}
		after := core.Cases(t)
		if len(after) != 1 || after[0].Content.Text != before.Content.Text {
			t.Fatalf("a replay changed the store: %d cases, text %q", len(after), after[0].Content.Text)
		}
		if ds, _ := core.Store.Deliveries(context.Background(), before.ID); len(ds) != 1 {
			t.Fatalf("a replay queued a delivery: %+v", ds)
		}
		if got := h.counter(t, "intake_wechat_rejected_total", map[string]string{"channel_id": chPlain, "reason": "replayed"}); got != 3 {
			t.Fatalf("rejected{replayed} = %v, want 3", got)
		}
		// Each refusal is logged at warn, with the channel and nothing of the request.
		out := logs.String()
		if n := strings.Count(out, `"level":"WARN","msg":"request refused: its signature was already used with another body (a replay)","channel":"`+chPlain+`"`); n != 3 {
			t.Fatalf("%d replay warnings:\n%s", n, out)
		}
		for _, personal := range []string{openID, "oAttacker", "770001", "路灯", "查询"} {
			if strings.Contains(out, personal) {
				t.Fatalf("the log holds %q:\n%s", personal, out)
			}
		}

		// The platform's own retry — the same query string with the same body — is answered as
		// the first time, also by another replica.
		if again := readReply(t, send(first), false).Content; again != reply {
			t.Fatalf("retry answered %q, first %q", again, reply)
		}
		h2 := serveDeps(t, channels.Deps{Receiver: core.Replica(t), Nonces: core.Store, Clock: clock}, nil)
		_, send2 := captured(t, h2, requestTS, "770001", first)
		if again := readReply(t, send2(first), false).Content; again != reply {
			t.Fatalf("retry at another replica answered %q", again)
		}
		if resp := send2(textPush(openID, "24312345678901305", "查询")); resp.status != http.StatusForbidden {
			t.Fatalf("replay at another replica: %d %q", resp.status, resp.body)
		}
		if n := len(core.Cases(t)); n != 1 {
			t.Fatalf("%d cases after retries", n)
		}

		// Once the timestamp is out of the window, the existing check refuses the query string
		// whatever the body.
		clock.Advance(6 * time.Minute)
		if resp := send(first); resp.status != http.StatusForbidden || !strings.Contains(resp.body, "timestamp") {
			t.Fatalf("expired query string: %d %q", resp.status, resp.body)
		}
	})
}

// A safe-mode push's msg_signature covers its ciphertext: another body cannot carry the same
// signatures, and the same ciphertext again is a retry. Nothing is remembered for it.
func TestSafeModeNeedsNoNonce(t *testing.T) {
	nonces := &countingNonces{}
	h := serveDeps(t, channels.Deps{Receiver: &fakeReceiver{}, Nonces: nonces, Clock: intake.ClockFunc(func() time.Time { return testNow })}, nil)
	if resp := h.send(t, chSafe, wxtest.Request{Body: messageCases[0].body, Safe: true}); resp.status != http.StatusOK {
		t.Fatalf("safe push: %d %s", resp.status, resp.body)
	}
	if resp := h.send(t, chPlain, wxtest.Request{Body: messageCases[0].body}); resp.status != http.StatusOK {
		t.Fatalf("plain push: %d %s", resp.status, resp.body)
	}
	if nonces.n != 1 {
		t.Fatalf("%d nonce claims for one safe and one plaintext push, want 1", nonces.n)
	}
}

type countingNonces struct {
	channels.MemoryNonces
	n int
}

func (c *countingNonces) ClaimNonce(ctx context.Context, n intake.NonceClaim) (bool, error) {
	c.n++
	return c.MemoryNonces.ClaimNonce(ctx, n)
}

// A MsgId is WeChat's, and a second openid (or anyone choosing MsgIds) may send one that is
// already stored. Only the same citizen with the same message is a retry; anything else is 409
// and gets nothing of the first case.
func TestReusedMsgIdFromAnotherCitizenGetsNothingOfTheCase(t *testing.T) {
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		for _, mode := range modes {
			t.Run(mode.name, func(t *testing.T) {
				h, core, _ := coreHarness(t, kind)
				msgID := "24312345678901400"
				first := textPush(openID, msgID, "我家楼下的井盖松动了，很危险。")
				firstReply := readReply(t, h.send(t, mode.channel, wxtest.Request{Body: first, Safe: mode.safe, Compatible: mode.compatible}), mode.safe).Content
				cases := core.Cases(t)
				if len(cases) != 1 {
					t.Fatalf("%d cases", len(cases))
				}
				c := cases[0]
				for name, body := range map[string]string{
					"another openid":  textPush("oOtherCitizen000000000000000", msgID, "我要反映另一件事：路面塌陷"),
					"another text":    textPush(openID, msgID, "另一件事：噪音扰民"),
					"another openid2": textPush("oOtherCitizen000000000000000", msgID, "我家楼下的井盖松动了，很危险。"),
				} {
					resp := h.send(t, mode.channel, wxtest.Request{Body: body, Safe: mode.safe, Compatible: mode.compatible})
					if resp.status != http.StatusConflict || strings.Contains(resp.body, c.CaseNo) || strings.Contains(resp.body, c.QueryCode) {
						t.Fatalf("%s: %d %q (case %s, code %s)", name, resp.status, resp.body, c.CaseNo, c.QueryCode)
					}
				}
				if n := len(core.Cases(t)); n != 1 {
					t.Fatalf("%d cases after conflicting pushes", n)
				}
				got, _ := core.Store.GetCase(context.Background(), c.ID)
				if got.Content.Text != c.Content.Text {
					t.Fatalf("case text changed: %q", got.Content.Text)
				}
				// WeChat's retry of the first message (a new request, the same XML) is answered as
				// the first time.
				again := readReply(t, h.send(t, mode.channel, wxtest.Request{Body: first, Safe: mode.safe, Compatible: mode.compatible}), mode.safe).Content
				if again != firstReply {
					t.Fatalf("retry answered %q, first %q", again, firstReply)
				}
			})
		}
	})
}

// A supplement's MsgId used again by another message of the same citizen is no retry either.
func TestReusedMsgIdOfASupplementIsAConflict(t *testing.T) {
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		h, core, _ := coreHarness(t, kind)
		readReply(t, h.send(t, chPlain, wxtest.Request{Body: textPush(openID, "501", "垃圾站三天没有清运")}), false)
		sup := textPush(openID, "502", "补充：气味很大")
		supReply := readReply(t, h.send(t, chPlain, wxtest.Request{Body: sup}), false).Content
		if !strings.Contains(supReply, "补充") {
			t.Fatalf("supplement answered %q", supReply)
		}
		if resp := h.send(t, chPlain, wxtest.Request{Body: textPush(openID, "502", "补充：还有老鼠")}); resp.status != http.StatusConflict {
			t.Fatalf("reused supplement MsgId: %d %q", resp.status, resp.body)
		}
		if again := readReply(t, h.send(t, chPlain, wxtest.Request{Body: sup}), false).Content; again != supReply {
			t.Fatalf("retried supplement answered %q", again)
		}
		c := core.Cases(t)[0]
		if strings.Contains(c.Content.Text, "老鼠") || strings.Count(c.Content.Text, "气味很大") != 1 {
			t.Fatalf("case text %q", c.Content.Text)
		}
	})
}
