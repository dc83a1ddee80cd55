package console_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/console"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

// personal is everything of the fixture's citizen that a list must never show.
var personal = []string{"13800138000", "8613800138000", "王女士", "oAbCdEfGhIjKlMn", "13912345678", "文化路12号3单元"}

func assertMasked(t *testing.T, what, body string) {
	t.Helper()
	for _, p := range personal {
		if strings.Contains(body, p) {
			t.Errorf("%s shows %q", what, p)
		}
	}
}

func TestListsMaskPersonalData(t *testing.T) {
	bothStores(t, console.Options{}, func(t *testing.T, e *env) {
		b := e.browser()
		b.mustLogin("olga")
		list := b.get("/console/cases")
		if list.status != http.StatusOK || !strings.Contains(list.body, e.plain.CaseNo) || !strings.Contains(list.body, e.other.CaseNo) {
			t.Fatalf("case list: %d\n%s", list.status, list.body)
		}
		assertMasked(t, "the case list", list.body)
		for _, want := range []string{"王**", "138****8000", "139****5678", "微信 oAbC****", "环翠区文***"} {
			if !strings.Contains(list.body, want) {
				t.Errorf("the case list lacks the masked %q", want)
			}
		}
		page := b.get("/console/cases/" + e.plain.CaseNo)
		if page.status != http.StatusOK || !strings.Contains(page.body, `id="reveal"`) {
			t.Fatalf("case page: %d", page.status)
		}
		assertMasked(t, "the case page before a reveal", page.body)
		if n := len(e.audit(intake.AuditReveal)); n != 0 {
			t.Fatalf("opening a case page wrote %d reveal entries", n)
		}
	})
}

func TestRevealIsAudited(t *testing.T) {
	bothStores(t, console.Options{}, func(t *testing.T, e *env) {
		b := e.browser()
		token := b.mustLogin("olga")
		r := b.post("/console/cases/"+e.plain.CaseNo+"/reveal", url.Values{"csrf": {token}})
		if r.status != http.StatusOK {
			t.Fatalf("reveal: %d\n%s", r.status, r.body)
		}
		for _, p := range []string{"13800138000", "王女士", "oAbCdEfGhIjKlMn", "13912345678", "环翠区文化路12号3单元"} {
			if !strings.Contains(r.body, p) {
				t.Errorf("the revealed page lacks %q", p)
			}
		}
		if r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("a revealed page may be cached: Cache-Control %q", r.header.Get("Cache-Control"))
		}
		entries := e.audit(intake.AuditReveal)
		if len(entries) != 1 {
			t.Fatalf("%d reveal entries", len(entries))
		}
		got := entries[0]
		if got.Actor != "olga" || got.ActorKind != intake.ActorUser || got.Target != "case:"+e.plain.CaseNo || got.RemoteAddr != "127.0.0.1" || got.At.IsZero() {
			t.Fatalf("reveal audited as %+v", got)
		}
		// The reveal does not stick: the next view is masked again.
		assertMasked(t, "the case page after a reveal", b.get("/console/cases/"+e.plain.CaseNo).body)
		// The admin finds it in the audit page.
		admin := e.browser()
		admin.mustLogin("alice")
		audit := admin.get("/console/audit?action=case.reveal")
		if !strings.Contains(audit.body, "case:"+e.plain.CaseNo) || !strings.Contains(audit.body, "olga") {
			t.Fatalf("audit page lacks the reveal:\n%s", audit.body)
		}
	})
}

func TestCorrection(t *testing.T) {
	bothStores(t, console.Options{}, func(t *testing.T, e *env) {
		b := e.browser()
		token := b.mustLogin("olga")
		path := "/console/cases/" + e.other.CaseNo + "/correct"
		bad := b.post(path, url.Values{"csrf": {token}, "category": {"nonsense"}, "request_type": {"shouting"}, "emergency": {"aliens"}})
		if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, "未知的分类") || !strings.Contains(bad.body, "未知的诉求类型") || !strings.Contains(bad.body, "未知的紧急类型") {
			t.Fatalf("a bad correction: %d\n%s", bad.status, bad.body)
		}
		r := b.post(path, url.Values{"csrf": {token}, "category": {"utilities"}, "request_type": {"complaint"}, "emergency": {""}, "note": {"居民反映停水"}})
		if r.status != http.StatusOK || r.url != "/console/cases/"+e.other.CaseNo {
			t.Fatalf("correction: %d at %s\n%s", r.status, r.url, r.body)
		}
		if !strings.Contains(r.body, "水电气") || !strings.Contains(r.body, "人工更正") || !strings.Contains(r.body, "居民反映停水") {
			t.Fatalf("the case page does not show the correction:\n%s", r.body)
		}
		got, err := e.store.GetCase(t.Context(), e.other.ID)
		if err != nil {
			t.Fatal(err)
		}
		cl := got.Classification
		if cl.Category != "utilities" || cl.CategoryName != "水电气" || cl.AutoCategory != "water" || cl.Source != "operator" || cl.NeedsReview {
			t.Fatalf("stored classification %+v", cl)
		}
		entries := e.audit(intake.AuditCorrection)
		if len(entries) != 1 || entries[0].Actor != "olga" || entries[0].Target != "case:"+e.other.CaseNo {
			t.Fatalf("correction audited as %+v", entries)
		}
		// Only one correction was stored: the refused one left nothing.
		if ks, _ := e.store.Corrections(t.Context(), e.other.ID); len(ks) != 1 {
			t.Fatalf("%d corrections stored", len(ks))
		}
	})
}

func TestDashboard(t *testing.T) {
	bothStores(t, console.Options{}, func(t *testing.T, e *env) {
		b := e.browser()
		b.mustLogin("vic")
		r := b.get("/console/")
		if r.status != http.StatusOK {
			t.Fatalf("dashboard: %d", r.status)
		}
		num := func(id string) string {
			m := regexp.MustCompile(`id="` + id + `">(?:<a [^>]*>)?([^<]*)<`).FindStringSubmatch(r.body)
			if m == nil {
				t.Fatalf("no #%s on the dashboard", id)
			}
			return m[1]
		}
		if got := num("total"); got != "2" {
			t.Errorf("30-day total %s, want 2", got)
		}
		// The fixture's cases came in one and two hours ago: today's figures count those of the
		// current day in the hotline's zone.
		today := store.LocalDayStart(time.Now(), storetest.Shanghai)
		wantToday, wantReview := 0, "0"
		if !e.plain.ReceivedAt.Before(today) {
			wantToday++
		}
		if !e.other.ReceivedAt.Before(today) {
			wantToday, wantReview = wantToday+1, "1"
		}
		if got := num("today"); got != strconv.Itoa(wantToday) {
			t.Errorf("today %s, want %d", got, wantToday)
		}
		if got := num("needs-review"); got != wantReview {
			t.Errorf("needs review today %s, want %s", got, wantReview)
		}
		if got := num("emergencies"); got != "0" {
			t.Errorf("emergencies %s, want 0", got)
		}
		for _, want := range []string{"供水", "道路", "投诉", "咨询", "微信", "短信", "50.0%", "<svg class=\"chart\""} {
			if !strings.Contains(r.body, want) {
				t.Errorf("dashboard lacks %q", want)
			}
		}
		// One script, the console's own live figure, from its own origin: nothing inline.
		scripts := regexp.MustCompile(`<script[^>]*>`).FindAllString(r.body, -1)
		if len(scripts) != 1 || scripts[0] != `<script src="/console/static/live.js">` {
			t.Errorf("the dashboard's scripts: %q", scripts)
		}
		if js := b.get("/console/static/live.js"); js.status != http.StatusOK || !strings.Contains(js.body, `new EventSource("/console/live")`) {
			t.Errorf("live.js: %d", js.status)
		}
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			!strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe") {
			t.Errorf("CSP %q", csp)
		}
	})
}

func TestCaseFiltersAndBadInput(t *testing.T) {
	bothStores(t, console.Options{}, func(t *testing.T, e *env) {
		b := e.browser()
		b.mustLogin("vic")
		cases := []struct {
			query      string
			status     int
			has, hasNo string
		}{
			{"channel=sms", 200, e.other.CaseNo, e.plain.CaseNo},
			{"category=roads", 200, e.plain.CaseNo, e.other.CaseNo},
			{"request_type=consult", 200, e.other.CaseNo, e.plain.CaseNo},
			{"review=1", 200, e.other.CaseNo, e.plain.CaseNo},
			{"q=" + url.QueryEscape("文化路"), 200, e.plain.CaseNo, e.other.CaseNo},
			{"district=" + url.QueryEscape("环翠区"), 200, e.plain.CaseNo, e.other.CaseNo},
			{"channel=fax", 400, "未知的渠道", e.plain.CaseNo},
			{"from=yesterday", 400, "日期格式", e.plain.CaseNo},
			{"status=lost&request_type=x", 400, "未知的状态", e.plain.CaseNo},
			{"cursor=bogus", 400, "翻页参数无效", e.plain.CaseNo},
			{"channel=sms&channel=wechat", 400, "参数重复", e.plain.CaseNo},
		}
		for _, tc := range cases {
			r := b.get("/console/cases?" + tc.query)
			if r.status != tc.status || !strings.Contains(r.body, tc.has) || strings.Contains(r.body, `href="/console/cases/`+tc.hasNo+`"`) {
				t.Errorf("?%s: %d (want %d), has %q: %v, lists %s: %v", tc.query, r.status, tc.status, tc.has,
					strings.Contains(r.body, tc.has), tc.hasNo, strings.Contains(r.body, `href="/console/cases/`+tc.hasNo+`"`))
			}
		}
		if r := b.get("/console/cases/WH2099010100001"); r.status != http.StatusNotFound {
			t.Errorf("unknown case: %d", r.status)
		}
		if r := b.get("/console/nowhere"); r.status != http.StatusNotFound {
			t.Errorf("unknown page: %d", r.status)
		}
	})
}
