package weibo_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/weibo"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/coretest"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplates()
	os.Exit(code)
}

// weiboCore serves the channel in front of the real core on a store of kind, with the store's
// nonces, as the gateway does; replica serves a second gateway on the same database.
func weiboCore(t *testing.T, kind string) (serve func(replica bool) *echo.Echo, core *coretest.Core, clock *coretest.Clock) {
	t.Helper()
	clock = coretest.NewClock(testNow)
	core = coretest.New(t, kind, clock, func(o *app.ConversationOptions) {
		o.Conversation = app.ConversationSettings{Window: 10 * time.Minute, NewMatterPrefixes: []string{"新问题"}, QueryKeywords: []string{"查询"}}
	})
	serve = func(replica bool) *echo.Echo {
		recv := core.Receiver
		if replica {
			recv = core.Replica(t)
		}
		a, err := weibo.New(channelConfig(nil), channels.Deps{Receiver: recv, Nonces: core.Store, Clock: clock, Metrics: prometheus.NewRegistry()})
		if err != nil {
			t.Fatal(err)
		}
		e := echo.New()
		a.Register(e)
		return e
	}
	return serve, core, clock
}

// Weibo signs timestamp and nonce, not the body. A captured query string must carry nothing
// but the same push again (Weibo's retry): not a 查询 in the citizen's name, not a supplement,
// not another citizen's message — at any replica; and nothing once the timestamp is stale.
func TestReplayedWeiboQueryStringWithAnotherBodyIsRefused(t *testing.T) {
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		serve, core, clock := weiboCore(t, kind)
		e := serve(false)
		first := body("text", "小区门口路灯坏了一个星期，晚上很黑", "{}")
		query := request{Body: first, Nonce: "880001"}.build().URL.RawQuery
		send := func(e *echo.Echo, b string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodPost, "/hooks/weibo/"+channelID+"?"+query, strings.NewReader(b))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			return rec
		}
		reply := readPassive(t, send(e, first)).text
		cases := core.Cases(t)
		if len(cases) != 1 || !strings.Contains(reply, cases[0].CaseNo) {
			t.Fatalf("first push answered %q; %d cases", reply, len(cases))
		}
		before := cases[0]

		for _, b := range []string{
			body("text", "查询", "{}"),
			body("text", "另外楼道灯也坏了", "{}"),
			strings.Replace(body("text", "新问题 假投诉", "{}"), senderUID, "5550002", 1),
		} {
			rec := send(e, b)
			if rec.Code != http.StatusForbidden || strings.Contains(rec.Body.String(), before.CaseNo) || strings.Contains(rec.Body.String(), before.QueryCode) {
				t.Fatalf("replayed query string with another body: %d %q", rec.Code, rec.Body.String())
			}
		}
		after := core.Cases(t)
		if len(after) != 1 || after[0].Content.Text != before.Content.Text {
			t.Fatalf("a replay changed the store: %d cases, text %q", len(after), after[0].Content.Text)
		}
		if ds, _ := core.Store.Deliveries(context.Background(), before.ID); len(ds) != 1 {
			t.Fatalf("a replay queued a delivery: %+v", ds)
		}

		if again := readPassive(t, send(e, first)).text; again != reply {
			t.Fatalf("Weibo's retry answered %q, first %q", again, reply)
		}
		other := serve(true)
		if again := readPassive(t, send(other, first)).text; again != reply {
			t.Fatalf("retry at another replica answered %q", again)
		}
		if rec := send(other, body("text", "查询", "{}")); rec.Code != http.StatusForbidden {
			t.Fatalf("replay at another replica: %d %q", rec.Code, rec.Body.String())
		}
		// A retry under a fresh signature, serialized differently, is still the same push.
		reordered := `{"data":{},"text":"小区门口路灯坏了一个星期，晚上很黑","created_at":"Thu Nov 27 16:00:00 +0800 2025","sender_id":` + senderUID +
			`,"receiver_id":` + accountUID + `,"type":"text"}`
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, request{Body: reordered}.build())
		if got := readPassive(t, rec).text; got != reply {
			t.Fatalf("re-serialized retry answered %q", got)
		}
		if n := len(core.Cases(t)); n != 1 {
			t.Fatalf("%d cases after retries", n)
		}

		clock.Advance(6 * time.Minute)
		if rec := send(e, first); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "timestamp") {
			t.Fatalf("stale query string: %d %q", rec.Code, rec.Body.String())
		}
	})
}
