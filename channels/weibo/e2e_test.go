package weibo_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/weibo"
	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/replies"
	"github.com/hotline12345/intake-gateway/normalize"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/sqlite"
)

// core is the adapter in front of the real conversation mechanism, intake service and SQLite
// store, with the built-in reply texts.
func core(t *testing.T) (*echo.Echo, *sqlite.Store) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "intake.db"), Options: store.Options{CaseNoPrefix: "WH"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc := app.NewIntake(st, nil, app.IntakeOptions{Normalize: normalize.Options{PhoneRegion: "CN"}}, nil)
	texts, err := replies.Parse(configs.Messages)
	if err != nil {
		t.Fatal(err)
	}
	clock := intake.ClockFunc(func() time.Time { return testNow })
	recv, err := app.NewConversation(st, svc, replies.NewCurrent(texts), app.ConversationOptions{Clock: clock,
		Menus: map[string]map[string]string{channelID: {"how_to_submit": replies.Welcome}}})
	if err != nil {
		t.Fatal(err)
	}
	a, err := weibo.New(channelConfig(nil), channels.Deps{Receiver: recv, Clock: clock, Metrics: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	a.Register(e)
	return e, st
}

func serveOnce(e *echo.Echo, b string) *httptest.ResponseRecorder {
	return (&harness{e: e}).send(request{Body: b})
}

// Every push type the adapter turns into a message passes the core and is answered; a retry gets
// the same answer and makes no second case; a mention's reply carries no query code.
func TestPushesThroughTheCore(t *testing.T) {
	e, st := core(t)
	var first []string
	for _, tc := range pushCases {
		if tc.msg == nil {
			continue
		}
		// Distinct senders, so that no message joins another's case as a supplement.
		b := strings.Replace(tc.body, senderUID, fmt.Sprintf("24895182%02d", len(first)), 1)
		rec := serveOnce(e, b)
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 {
			t.Fatalf("%s: %d %s", tc.name, rec.Code, rec.Body.String())
		}
		first = append(first, rec.Body.String())
		if again := serveOnce(e, b); again.Code != http.StatusOK || again.Body.String() != rec.Body.String() {
			t.Fatalf("%s: retry answered %d %s, first %s", tc.name, again.Code, again.Body.String(), rec.Body.String())
		}
	}
	page, err := st.ListCases(context.Background(), intake.CaseFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Cases) != len(first) {
		t.Fatalf("%d cases for %d messages", len(page.Cases), len(first))
	}
	for _, c := range page.Cases {
		if c.Channel != intake.ChannelWeibo || c.Citizen.WeiboUID == "" || c.QueryCode == "" {
			t.Errorf("case %+v", c)
		}
	}
	// The mention's answer: the public text, without the query code.
	p := readPassive(t, serveOnce(e, strings.Replace(body("mention", "@威海12345 路灯坏了", `{"subtype":"status","key":1}`), senderUID, "5550001", 1))).text
	page, err = st.ListCases(context.Background(), intake.CaseFilter{Limit: 1})
	if err != nil || len(page.Cases) != 1 {
		t.Fatal(err)
	}
	mc := page.Cases[0]
	if !strings.Contains(p, mc.CaseNo) || strings.Contains(p, mc.QueryCode) || !strings.Contains(p, "私信") {
		t.Fatalf("public reply %q for case %s/%s", p, mc.CaseNo, mc.QueryCode)
	}
}

// Weibo's retry racing the first delivery: one case, every copy the same answer.
func TestConcurrentRetriesMakeOneCase(t *testing.T) {
	e, st := core(t)
	const copies = 8
	codes, bodies := make([]int, copies), make([]string, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := serveOnce(e, textPush)
			codes[i], bodies[i] = rec.Code, rec.Body.String()
		}()
	}
	wg.Wait()
	for i := range copies {
		if codes[i] != http.StatusOK || bodies[i] != bodies[0] {
			t.Fatalf("copy %d: %d %s (first %s)", i, codes[i], bodies[i], bodies[0])
		}
	}
	page, err := st.ListCases(context.Background(), intake.CaseFilter{Limit: 10})
	if err != nil || len(page.Cases) != 1 {
		t.Fatalf("%d cases, %v", len(page.Cases), err)
	}
}

// Follow gets the welcome text; a mapped menu key its reply; unfollow an empty body.
func TestEventsThroughTheCore(t *testing.T) {
	e, _ := core(t)
	for _, tc := range []struct {
		data string
		want string
	}{
		{`{"subtype":"follow"}`, "感谢关注"},
		{`{"subtype":"click","key":"how_to_submit"}`, "感谢关注"},
		{`{"subtype":"click","key":"unmapped"}`, ""},
		{`{"subtype":"unfollow"}`, ""},
	} {
		rec := serveOnce(e, body("event", "", tc.data))
		if tc.want == "" {
			if rec.Code != 200 || rec.Body.Len() != 0 {
				t.Errorf("%s: %d %q", tc.data, rec.Code, rec.Body.String())
			}
			continue
		}
		if p := readPassive(t, rec).text; !strings.Contains(p, tc.want) {
			t.Errorf("%s: %q", tc.data, p)
		}
	}
}
