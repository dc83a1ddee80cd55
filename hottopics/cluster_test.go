package hottopics_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/hottopics"
)

var now = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

func opts() hottopics.Options {
	return hottopics.Options{Enabled: true, Window: 2 * time.Hour, MinCases: 15, Similarity: 0.15, Interval: time.Minute, MaxCases: 5000}
}

// waterCut is the i-th citizen's report of one water cut, each worded in their own way (as
// citizens do: 0.05–0.5 similar to each other), some with a phone number or a name in it.
func waterCut(i int) string {
	places := []string{"幸福小区", "我们小区", "幸福路这边", "我家", "幸福小区三栋", "这一片"}
	spans := []string{"从早上开始", "一上午了", "半天了", "两个小时了", "突然", "到现在还"}
	tails := []string{"什么时候来水？", "也没有通知，什么时候恢复供水", "家里老人没水用，请尽快来水", "做饭都没水了",
		"物业说是水管爆了，什么时候修好", "请问什么时候能来水，我电话13800138000", "我是张建国，请回电"}
	return places[i%len(places)] + spans[(i/2)%len(spans)] + "停水，" + tails[i%len(tails)]
}

// unlike are complaints of the same category and district about something else.
var unlike = []string{"水费账单金额不对，比上月多了两百元", "自来水有异味，颜色发黄", "水表坏了好几天没人来换",
	"营业厅排队太久，办理过户很麻烦", "二次供水水箱没人清洗"}

func topicCase(id string, at time.Time, district, text string) intake.TopicCase {
	return intake.TopicCase{ID: id, CaseNo: "WH" + id, ReceivedAt: at, Category: "utilities", District: district, Text: text}
}

// burst is n reports of the water cut in district, one every interval, ending at end.
func burst(prefix string, n int, district string, end time.Time, interval time.Duration) []intake.TopicCase {
	out := make([]intake.TopicCase, n)
	for i := range out {
		out[i] = topicCase(fmt.Sprintf("%s%02d", prefix, i), end.Add(-time.Duration(n-1-i)*interval), district, waterCut(i))
	}
	return out
}

func merge(parts ...[]intake.TopicCase) []intake.TopicCase {
	var out []intake.TopicCase
	for _, p := range parts {
		out = append(out, p...)
	}
	// oldest first, as the store returns them
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ReceivedAt.Before(out[j-1].ReceivedAt); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func TestABurstInOneDistrictOpensOneIncident(t *testing.T) {
	alike := burst("a", 15, "江岸区", now.Add(-time.Minute), 6*time.Minute)
	var others []intake.TopicCase
	for i, text := range unlike {
		others = append(others, topicCase(fmt.Sprintf("u%d", i), now.Add(-time.Duration(i*7)*time.Minute), "江岸区", text))
	}
	elsewhere := burst("w", 14, "武昌区", now.Add(-2*time.Minute), 5*time.Minute)
	ch := hottopics.Plan(merge(alike, others, elsewhere), nil, now, opts())
	if len(ch.Open) != 1 {
		t.Fatalf("Plan opened %d incidents, want 1: %+v", len(ch.Open), ch.Open)
	}
	in := ch.Open[0]
	if in.Incident.District != "江岸区" || in.Incident.Category != "utilities" || len(in.CaseIDs) != 15 || in.Incident.Size != 15 {
		t.Fatalf("incident = %+v with %d cases, want the 15 reports in 江岸区", in.Incident, len(in.CaseIDs))
	}
	for _, id := range in.CaseIDs {
		if !strings.HasPrefix(id, "a") {
			t.Fatalf("case %s (not a report of the water cut in 江岸区) joined the incident", id)
		}
	}
	if !in.Incident.FirstSeen.Equal(alike[0].ReceivedAt) || !in.Incident.LastSeen.Equal(alike[14].ReceivedAt) {
		t.Fatalf("first/last seen = %s/%s", in.Incident.FirstSeen, in.Incident.LastSeen)
	}
	if !ch.CloseQuietBefore.Equal(now.Add(-2*time.Hour)) || ch.Announce {
		t.Fatalf("CloseQuietBefore = %s, Announce = %v", ch.CloseQuietBefore, ch.Announce)
	}
	o := opts()
	o.Webhook.URL = "https://duty.example/hooks"
	if !hottopics.Plan(alike, nil, now, o).Announce {
		t.Fatal("with a webhook the plan must announce")
	}
}

func TestNoIncidentBelowTheRate(t *testing.T) {
	cases := map[string][]intake.TopicCase{
		"14 reports":                     burst("a", 14, "江岸区", now, 5*time.Minute),
		"15 reports over three hours":    burst("a", 15, "江岸区", now, 12*time.Minute),
		"15 unlike complaints":           unlikeBurst(15),
		"15 reports without a district":  burst("a", 15, "", now, time.Minute),
		"8 reports in each of two areas": merge(burst("a", 8, "江岸区", now, time.Minute), burst("b", 8, "武昌区", now, time.Minute)),
	}
	repeated := burst("a", 15, "江岸区", now, time.Minute)
	for i := range 5 {
		repeated[i].Repeat = true // one citizen writing again is not another citizen
	}
	cases["10 reports and 5 repeats"] = repeated
	for name, cs := range cases {
		if ch := hottopics.Plan(cs, nil, now, opts()); len(ch.Open) != 0 {
			t.Errorf("%s: opened %+v, want nothing", name, ch.Open[0].Incident)
		}
	}
}

func unlikeBurst(n int) []intake.TopicCase {
	out := make([]intake.TopicCase, n)
	for i := range out {
		out[i] = topicCase(fmt.Sprintf("u%02d", i), now.Add(-time.Duration(n-i)*time.Minute), "江岸区", unlike[i%len(unlike)]+strings.Repeat("！", i))
	}
	return out
}

func TestAnOpenIncidentGrowsAndAClosedOneIsLeftAlone(t *testing.T) {
	members := burst("m", 15, "江岸区", now.Add(-30*time.Minute), 5*time.Minute)
	for i := range members {
		members[i].IncidentID = "inc-open"
	}
	fresh := burst("n", 3, "江岸区", now, 5*time.Minute)
	other := topicCase("x", now.Add(-time.Minute), "江岸区", unlike[0])
	ch := hottopics.Plan(merge(members, fresh, []intake.TopicCase{other}), map[string]bool{"inc-open": true}, now, opts())
	if len(ch.Open) != 0 || len(ch.Grow) != 1 {
		t.Fatalf("plan = %+v, want only growth", ch)
	}
	g := ch.Grow[0]
	if g.IncidentID != "inc-open" || strings.Join(g.CaseIDs, ",") != "n00,n01,n02" || !g.LastSeen.Equal(fresh[2].ReceivedAt) {
		t.Fatalf("growth = %+v, want the 3 new reports", g)
	}
	// The same members in an incident that has closed: new reports neither join it nor, with
	// three of them, open another.
	ch = hottopics.Plan(merge(members, fresh), map[string]bool{}, now, opts())
	if len(ch.Open) != 0 || len(ch.Grow) != 0 {
		t.Fatalf("plan against a closed incident = %+v, want nothing", ch)
	}
}

func TestSummaryIsSharedWordingOnly(t *testing.T) {
	texts := make([]string, 15)
	for i := range texts {
		texts[i] = waterCut(i)
	}
	s := hottopics.Summary(texts)
	if !strings.Contains(s, "停水") {
		t.Fatalf("Summary = %q, want the shared 停水", s)
	}
	for _, personal := range []string{"张建国", "138", "0013"} {
		if strings.Contains(s, personal) {
			t.Fatalf("Summary %q carries %q, which one citizen wrote", s, personal)
		}
	}
	for _, r := range s {
		if unicode.IsDigit(r) {
			t.Fatalf("Summary %q has a digit", s)
		}
	}
	if n := len([]rune(s)); n > 40 {
		t.Fatalf("Summary is %d characters, want at most 40", n)
	}
	if s := hottopics.Summary(unlike); s != "" {
		t.Fatalf("Summary of unrelated texts = %q, want empty", s)
	}
	// Two citizens sharing one name is not enough: a phrase needs half the texts.
	named := []string{"我是李秀英，幸福小区停水", "李秀英反映停水", "小区停水了", "停水什么时候恢复", "一直停水"}
	if s := hottopics.Summary(named); strings.Contains(s, "秀英") || !strings.Contains(s, "停水") {
		t.Fatalf("Summary = %q, want 停水 without the name two texts share", s)
	}
}

func TestOptionsCheck(t *testing.T) {
	if err := (hottopics.Options{}).Check(); err != nil {
		t.Fatalf("disabled options need nothing: %v", err)
	}
	bad := opts()
	bad.MinCases, bad.Similarity = 1, 1.5
	bad.Webhook = hottopics.Webhook{URL: "https://duty.example/hooks", Secret: "not-whsec", Timeout: time.Second}
	err := bad.Check()
	for _, want := range []string{"hot_topics.min_cases", "hot_topics.similarity", "hot_topics.webhook.secret"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check() = %v, want it to name %s", err, want)
		}
	}
	if _, err := hottopics.NewScanner(nil, bad, nil, nil); err == nil {
		t.Error("NewScanner accepted bad options")
	}
	good := opts()
	good.Webhook = hottopics.Webhook{URL: "https://duty.example/hooks", Secret: "intake-secret", Signature: "intake", Timeout: time.Second}
	if err := good.Check(); err != nil {
		t.Errorf("intake-signed webhook: %v", err)
	}
}

// TestArrivalOrderDoesNotMatter: the same reports in the opposite order make the same incident
// (a report that links two earlier groups joins them).
func TestArrivalOrderDoesNotMatter(t *testing.T) {
	cs := burst("a", 15, "江岸区", now, time.Minute)
	for i := range cs {
		cs[i].Text = waterCut(14 - i)
	}
	ch := hottopics.Plan(cs, nil, now, opts())
	if len(ch.Open) != 1 || len(ch.Open[0].CaseIDs) != 15 {
		t.Fatalf("reversed reports opened %+v, want one incident of 15", ch.Open)
	}
}
