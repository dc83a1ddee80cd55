package console_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/console"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

// openIncident stores three reports of a water cut by the fixture's citizen (personal data in
// the record and the text) and an incident of them, as a clustering run would.
func openIncident(t *testing.T, e *env) (intake.Incident, []*intake.Case) {
	t.Helper()
	var members []*intake.Case
	for i := range 3 {
		nc := storetest.TopicCase(fmt.Sprintf("cut-%d", i), fmt.Sprintf("幸福小区停水了，我的电话13912345678，第%d次反映", i), "utilities", "环翠区",
			time.Now().Add(-time.Duration(30-i)*time.Minute))
		nc.Case.Citizen = intake.Citizen{Name: "王女士", Phone: "+8613800138000"}
		res, err := e.store.CreateCase(t.Context(), nc)
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, res.Case)
	}
	ids := []string{members[0].ID, members[1].ID, members[2].ID}
	res, err := e.store.ApplyTopics(t.Context(), intake.TopicChanges{Now: time.Now(), Open: []intake.NewIncident{{
		Incident: intake.Incident{Category: "utilities", District: "环翠区", Summary: "幸福小区停水"}, CaseIDs: ids,
	}}})
	if err != nil || len(res.Opened) != 1 {
		t.Fatalf("ApplyTopics = %+v, %v", res, err)
	}
	return res.Opened[0], members
}

// TestTopicsPage: a viewer finds the open incident, linked from the navigation and counted on
// the dashboard, with its member cases masked as every list is; closed incidents are a filter
// away, and a bad filter is a clear 400.
func TestTopicsPage(t *testing.T) {
	bothStores(t, console.Options{}, func(t *testing.T, e *env) {
		b := e.browser()
		b.mustLogin("vic")
		empty := b.get("/console/topics")
		if empty.status != http.StatusOK || !strings.Contains(empty.body, "当前没有进行中的热点") {
			t.Fatalf("topics page without incidents: %d\n%s", empty.status, empty.body)
		}
		in, members := openIncident(t, e)

		r := b.get("/console/topics")
		if r.status != http.StatusOK {
			t.Fatalf("topics page: %d\n%s", r.status, r.body)
		}
		if !regexp.MustCompile(`<a href="/console/topics" class="active">热点</a>`).MatchString(r.body) {
			t.Error("the navigation lacks the active 热点 link")
		}
		for _, want := range []string{`id="incident-` + in.ID + `"`, "幸福小区停水", "环翠区", "水电气", ">3</span> 件", "未配置通知", "王**", "139****5678"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("the topics page lacks %q", want)
			}
		}
		for _, m := range members {
			if !strings.Contains(r.body, `href="/console/cases/`+m.CaseNo+`"`) {
				t.Errorf("member %s is not listed", m.CaseNo)
			}
		}
		if strings.Contains(r.body, e.plain.CaseNo) {
			t.Error("a case outside the incident is listed")
		}
		assertMasked(t, "the topics page", r.body)

		dash := b.get("/console/")
		if m := regexp.MustCompile(`id="open-incidents"><a href="/console/topics">(\d+)<`).FindStringSubmatch(dash.body); m == nil || m[1] != "1" {
			t.Fatalf("the dashboard's open incidents: %v", m)
		}

		if _, err := e.store.ApplyTopics(t.Context(), intake.TopicChanges{Now: time.Now(), CloseQuietBefore: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if r := b.get("/console/topics"); strings.Contains(r.body, in.ID) || !strings.Contains(r.body, "当前没有进行中的热点") {
			t.Fatal("a closed incident is listed among the open ones")
		}
		closed := b.get("/console/topics?state=closed")
		if closed.status != http.StatusOK || !strings.Contains(closed.body, in.ID) || !strings.Contains(closed.body, "结束于") {
			t.Fatalf("closed incidents: %d\n%s", closed.status, closed.body)
		}
		if m := regexp.MustCompile(`id="open-incidents"><a href="/console/topics">(\d+)<`).FindStringSubmatch(b.get("/console/").body); m == nil || m[1] != "0" {
			t.Fatalf("the dashboard's open incidents after closing: %v", m)
		}
		for query, want := range map[string]string{"?state=bogus": "未知的热点状态", "?state=open&state=closed": "参数重复"} {
			bad := b.get("/console/topics" + query)
			if bad.status != http.StatusBadRequest || !strings.Contains(bad.body, want) {
				t.Errorf("%s: %d, want 400 with %q", query, bad.status, want)
			}
		}
		// Signed out, the page is not shown.
		anon := e.browser().get("/console/topics")
		if strings.Contains(anon.body, in.ID) || anon.url != "/console/login" {
			t.Errorf("signed out: %d at %s", anon.status, anon.url)
		}
	})
}

// TestReportListsRisingTopics: the period report lists the incidents that began in it, on the
// page and in the CSV; a period before them lists none.
func TestReportListsRisingTopics(t *testing.T) {
	bothStores(t, console.Options{}, func(t *testing.T, e *env) {
		in, _ := openIncident(t, e)
		b := e.browser()
		b.mustLogin("vic")
		now := time.Now().In(storetest.Shanghai)
		from, to := now.AddDate(0, 0, -1).Format("2006-01-02"), now.Format("2006-01-02")
		page := b.get("/console/reports?from=" + from + "&to=" + to)
		if page.status != http.StatusOK || !regexp.MustCompile(`<td>环翠区</td><td>幸福小区停水</td><td>水电气</td><td>3</td>`).MatchString(page.body) {
			t.Fatalf("the report lacks the rising topic %s:\n%s", in.ID, page.body)
		}
		assertMasked(t, "the report", page.body)
		file := b.get("/console/reports?from=" + from + "&to=" + to + "&format=csv")
		if !strings.Contains(file.body, "rising_topic,环翠区,幸福小区停水,3,") {
			t.Fatalf("the CSV lacks the rising topic:\n%s", file.body)
		}
		before := now.AddDate(0, 0, -10).Format("2006-01-02")
		if r := b.get("/console/reports?from=" + before + "&to=" + before); !strings.Contains(r.body, "本期没有热点") {
			t.Fatal("a period before the incident lists it")
		}
	})
}
