package webhook_test

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
	"github.com/hotline12345/intake-gateway/channels/webhook"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/coretest"
	"github.com/hotline12345/intake-gateway/internal/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	pgtest.DropTemplates()
	os.Exit(code)
}

// webhookCore serves cfg in front of the real core on a store of kind, with the store's nonces,
// as the gateway does.
func webhookCore(t *testing.T, kind string, cfg channels.Config, now time.Time) (*echo.Echo, *coretest.Core, *coretest.Clock) {
	t.Helper()
	clock := coretest.NewClock(now)
	core := coretest.New(t, kind, clock, func(o *app.ConversationOptions) {
		o.Conversation = app.ConversationSettings{Window: 10 * time.Minute, NewMatterPrefixes: []string{"新问题"}, QueryKeywords: []string{"查询"}}
	})
	a, err := webhook.New(cfg, channels.Deps{Receiver: core.Receiver, Nonces: core.Store, Clock: clock, Metrics: prometheus.NewRegistry()})
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	a.Register(e)
	return e, core, clock
}

func serveReq(e *echo.Echo, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, r)
	return rec
}

// The sorted-SHA-1 scheme signs secret, timestamp and nonce, not the body. Its captured query
// string carries the same push again (the platform's retry) and nothing else.
func TestSortedSHA1QueryStringReplayedWithAnotherBodyIsRefused(t *testing.T) {
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		e, core, clock := webhookCore(t, kind, loadExample(t, "sorted-sha1.yaml"), countyNow)
		q := countyQuery("1764230400000", "990001")
		if rec := serveReq(e, countyRequest(countyPush, q)); rec.Code != http.StatusOK || rec.Body.String() != "success" {
			t.Fatalf("first push: %d %q", rec.Code, rec.Body.String())
		}
		before := core.Cases(t)
		if len(before) != 1 {
			t.Fatalf("%d cases", len(before))
		}
		forged := strings.Replace(strings.Replace(countyPush, "7301234567890123456", "7301234567890123999", 1), "积水很深", "有人打架", 1)
		for _, body := range []string{forged, strings.Replace(countyPush, "积水很深", "积水很浅", 1)} {
			if rec := serveReq(e, countyRequest(body, q)); rec.Code != http.StatusForbidden {
				t.Fatalf("replayed query string with another body: %d %q", rec.Code, rec.Body.String())
			}
		}
		if after := core.Cases(t); len(after) != 1 || after[0].Content.Text != before[0].Content.Text {
			t.Fatalf("a replay changed the store: %d cases", len(after))
		}
		if rec := serveReq(e, countyRequest(countyPush, q)); rec.Code != http.StatusOK || rec.Body.String() != "success" {
			t.Fatalf("the platform's retry: %d %q", rec.Code, rec.Body.String())
		}
		// Hex in upper case decodes to the same signature: the same request, not a new one.
		upper := countyQuery("1764230400000", "990001")
		upper.Set("signature", strings.ToUpper(upper.Get("signature")))
		if rec := serveReq(e, countyRequest(forged, upper)); rec.Code != http.StatusForbidden {
			t.Fatalf("the signature respelled, with another body: %d %q", rec.Code, rec.Body.String())
		}
		if n := len(core.Cases(t)); n != 1 {
			t.Fatalf("%d cases after the retry", n)
		}
		clock.Advance(6 * time.Minute)
		if rec := serveReq(e, countyRequest(countyPush, q)); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "timestamp") {
			t.Fatalf("stale query string: %d %q", rec.Code, rec.Body.String())
		}
	})
}

// A platform's report id used again for another report — by another user of the app, or by a
// client that chooses its ids — is a conflict, answered with nothing of the first report's case.
func TestReusedReportIDGetsNothingOfTheCase(t *testing.T) {
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		e, core, _ := webhookCore(t, kind, loadExample(t, "cityapp.yaml"), cityNow)
		first := serveReq(e, signedCity(cityReport))
		cases := core.Cases(t)
		if first.Code != http.StatusOK || len(cases) != 1 || !strings.Contains(first.Body.String(), cases[0].CaseNo) {
			t.Fatalf("first report: %d %s", first.Code, first.Body.String())
		}
		c := cases[0]
		for name, body := range map[string]string{
			"another user":  strings.Replace(strings.Replace(cityReport, "13800138000", "13900139000", 1), "路灯不亮", "井盖丢失", 1),
			"another text":  strings.Replace(cityReport, "路灯不亮", "井盖丢失", 1),
			"the same user": strings.Replace(cityReport, `"version": "5.2.1"`, `"version": "5.2.2"`, 1),
		} {
			rec := serveReq(e, signedCity(body))
			if rec.Code != http.StatusConflict || strings.Contains(rec.Body.String(), c.CaseNo) || strings.Contains(rec.Body.String(), c.QueryCode) {
				t.Fatalf("%s: %d %q", name, rec.Code, rec.Body.String())
			}
		}
		after := core.Cases(t)
		if len(after) != 1 || after[0].Content.Text != c.Content.Text {
			t.Fatalf("conflicting reports changed the store: %d cases", len(after))
		}
		if ds, _ := core.Store.Deliveries(context.Background(), c.ID); len(ds) != 1 {
			t.Fatalf("deliveries %+v", ds)
		}
		if again := serveReq(e, signedCity(cityReport)); again.Code != http.StatusOK || again.Body.String() != first.Body.String() {
			t.Fatalf("retry: %d %s", again.Code, again.Body.String())
		}
	})
}
