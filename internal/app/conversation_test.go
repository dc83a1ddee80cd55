package app_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/internal/app"
	"github.com/hotline12345/intake-gateway/internal/replies"
	"github.com/hotline12345/intake-gateway/store"
	"github.com/hotline12345/intake-gateway/store/sqlite"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	t     *testing.T
	st    *sqlite.Store
	clock *clock
	r     *app.Conversation
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	clk := &clock{now: time.Date(2026, 11, 27, 2, 0, 0, 0, time.UTC)}
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "c.db"),
		Options: store.Options{CaseNoPrefix: "WH", Location: time.FixedZone("CST", 8*3600)}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	texts, err := replies.Parse(configs.Messages)
	if err != nil {
		t.Fatal(err)
	}
	svc := app.NewIntake(st, clk, app.IntakeOptions{MaxTextChars: 2000, MaxFutureSkew: 5 * time.Minute}, nil)
	r, err := app.NewConversation(st, svc, replies.NewCurrent(texts), app.ConversationOptions{
		Conversation: app.ConversationSettings{
			Window: 10 * time.Minute, NewMatterPrefixes: []string{"新问题"}, QueryKeywords: []string{"查询"},
			QueryLimit: 3, QueryPeriod: 10 * time.Minute, OptOutWords: []string{"TD", "退订", "STOP"},
			OptInWords: []string{"START", "订阅"}, LocationTTL: 30 * time.Minute,
		},
		Menus: map[string]map[string]string{"wechat-main": {"HOW": "how_to_submit"}},
		Clock: clk, Location: time.FixedZone("CST", 8*3600),
		SurveyWindow: 7 * 24 * time.Hour, ReopenOnDissatisfied: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, st: st, clock: clk, r: r}
}

func wechat(ext, openid, text string) app.Message {
	return app.Message{Submission: intake.Submission{
		Channel: intake.ChannelWeChat, ChannelID: "wechat-main", ExternalID: ext, Text: text,
		Citizen: intake.CitizenInput{WeChatOpenID: openid},
		Raw:     intake.RawPayload{ContentType: "text/xml", Body: []byte("<xml>" + ext + "</xml>")},
	}}
}

func sms(ext, phone, text string) app.Message {
	return app.Message{Submission: intake.Submission{
		Channel: intake.ChannelSMS, ChannelID: "sms-main", ExternalID: ext, Text: text,
		Citizen: intake.CitizenInput{Phone: phone},
	}}
}

func (f *fixture) receive(msg app.Message) app.Reply {
	f.t.Helper()
	reply, err := f.r.Receive(context.Background(), msg)
	if err != nil {
		f.t.Fatalf("Receive(%s): %v", msg.Submission.ExternalID, err)
	}
	return reply
}

func (f *fixture) cases() []*intake.Case {
	f.t.Helper()
	page, err := f.st.ListCases(context.Background(), intake.CaseFilter{Limit: 100})
	if err != nil {
		f.t.Fatal(err)
	}
	return page.Cases
}

func TestNewCaseAndRetryGetTheSameReply(t *testing.T) {
	f := newFixture(t)
	first := f.receive(wechat("m1", "oA", "小区路灯坏了一周，请派人修理。"))
	if first.Outcome != app.OutcomeCreated || first.Case == nil {
		t.Fatalf("outcome %s", first.Outcome)
	}
	if !strings.Contains(first.Text, first.Case.CaseNo) || !strings.Contains(first.Text, first.Case.QueryCode) {
		t.Fatalf("reply %q lacks case number or query code", first.Text)
	}
	again := f.receive(wechat("m1", "oA", "小区路灯坏了一周，请派人修理。"))
	if again.Outcome != app.OutcomeDuplicate || again.Text != first.Text {
		t.Fatalf("retry: %s %q, first %q", again.Outcome, again.Text, first.Text)
	}
	// Even after the conversation window the retry is the same case, not a supplement or a new one.
	f.clock.advance(time.Hour)
	if late := f.receive(wechat("m1", "oA", "小区路灯坏了一周，请派人修理。")); late.Text != first.Text {
		t.Fatalf("late retry: %q", late.Text)
	}
	if n := len(f.cases()); n != 1 {
		t.Fatalf("%d cases, want 1", n)
	}
}

func TestConcurrentCopiesAndBurstsFromOneCitizen(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	texts := make([]string, 20)
	for i := range texts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reply, err := f.r.Receive(context.Background(), wechat("dup", "oB", "噪音扰民，晚上施工"))
			if err != nil {
				t.Error(err)
				return
			}
			texts[i] = reply.Text
		}()
	}
	wg.Wait()
	for _, tx := range texts {
		if tx != texts[0] {
			t.Fatalf("copies got different replies: %q vs %q", tx, texts[0])
		}
	}
	// A text and a photo sent at the same moment: one case and one supplement, never two cases.
	wg.Add(2)
	go func() { defer wg.Done(); f.receive(wechat("t1", "oC", "垃圾站三天没清运")) }()
	go func() {
		defer wg.Done()
		m := wechat("p1", "oC", "[图片]")
		m.Submission.Attachments = []intake.Attachment{{Kind: intake.AttachmentImage, MediaID: "mid"}}
		f.receive(m)
	}()
	wg.Wait()
	n := 0
	for _, c := range f.cases() {
		if c.Citizen.WeChatOpenID == "oC" {
			n++
		}
	}
	if len(f.cases()) != 2 || n != 1 {
		t.Fatalf("cases %d (citizen oC: %d), want 2 and 1", len(f.cases()), n)
	}
}

func TestFollowUpsJoinTheOpenCase(t *testing.T) {
	f := newFixture(t)
	first := f.receive(wechat("a1", "oD", "小区门口井盖松动"))
	f.clock.advance(3 * time.Minute)
	photo := wechat("a2", "oD", "[图片]")
	photo.Submission.Attachments = []intake.Attachment{{Kind: intake.AttachmentImage, MediaID: "m-123"}}
	sup := f.receive(photo)
	if sup.Outcome != app.OutcomeSupplement || sup.Case.ID != first.Case.ID || !strings.Contains(sup.Text, first.Case.CaseNo) {
		t.Fatalf("photo: %s %q", sup.Outcome, sup.Text)
	}
	if again := f.receive(photo); again.Outcome != app.OutcomeDuplicate || again.Text != sup.Text {
		t.Fatalf("retried supplement: %s %q", again.Outcome, again.Text)
	}
	c, _ := f.st.GetCase(context.Background(), first.Case.ID)
	if len(c.Attachments) != 1 || c.Attachments[0].MediaID != "m-123" {
		t.Fatalf("attachments %+v", c.Attachments)
	}
	ds, _ := f.st.Deliveries(context.Background(), c.ID)
	if len(ds) != 2 || ds[1].Event != intake.EventCaseUpdated {
		t.Fatalf("deliveries %+v", ds)
	}

	// "新问题" starts a new case even inside the window, without the prefix.
	nm := f.receive(wechat("a3", "oD", "新问题：楼下烧烤店油烟太大"))
	if nm.Outcome != app.OutcomeCreated || nm.Case.ID == first.Case.ID || nm.Case.Content.Text != "楼下烧烤店油烟太大" {
		t.Fatalf("new matter: %s %q", nm.Outcome, nm.Case.Content.Text)
	}
	// After the window, a new message is a new case.
	f.clock.advance(11 * time.Minute)
	if late := f.receive(wechat("a4", "oD", "另外路灯也坏了")); late.Outcome != app.OutcomeCreated {
		t.Fatalf("after the window: %s", late.Outcome)
	}
	// A resolved case is not open: a follow-up within the window makes a new case.
	x := f.receive(wechat("b1", "oE", "咨询公积金提取"))
	if _, err := f.st.AddStatus(context.Background(), x.Case.ID, intake.StatusChange{Status: intake.StatusResolved, At: f.clock.Now(), Source: "t"}, nil); err != nil {
		t.Fatal(err)
	}
	if y := f.receive(wechat("b2", "oE", "还想问一下贷款")); y.Outcome != app.OutcomeCreated {
		t.Fatalf("follow-up to a resolved case: %s", y.Outcome)
	}
}

func TestStatusQueries(t *testing.T) {
	f := newFixture(t)
	created := f.receive(wechat("q0", "oQ", "路面塌陷需要维修")).Case
	if _, err := f.st.AddStatus(context.Background(), created.ID, intake.StatusChange{
		Status: intake.StatusAssigned, At: f.clock.Now(), Source: "case-system", Department: "市住建局", Message: "已派人查看"}, nil); err != nil {
		t.Fatal(err)
	}
	own := f.receive(wechat("q1", "oQ", "查询"))
	if own.Outcome != app.OutcomeStatusQuery || !strings.Contains(own.Text, created.CaseNo) || !strings.Contains(own.Text, "办理中") || !strings.Contains(own.Text, "已派人查看") {
		t.Fatalf("own status: %q", own.Text)
	}
	byCode := f.receive(wechat("q2", "oOther", fmt.Sprintf("查询 %s %s", strings.ToLower(created.CaseNo), created.QueryCode)))
	if !strings.Contains(byCode.Text, created.CaseNo) {
		t.Fatalf("by code: %q", byCode.Text)
	}
	wrongCode := f.receive(wechat("q3", "oOther", "查询 "+created.CaseNo+" 000000"))
	unknown := f.receive(wechat("q4", "oOther", "查询 WH2099010100001 123456"))
	if wrongCode.Text != unknown.Text || strings.Contains(wrongCode.Text, created.CaseNo) {
		t.Fatalf("misses must be indistinguishable: %q vs %q", wrongCode.Text, unknown.Text)
	}
	limited := f.receive(wechat("q5", "oOther", "查询"))
	if !strings.Contains(limited.Text, "频繁") {
		t.Fatalf("the 4th query within the period should be limited: %q", limited.Text)
	}
	if n := len(f.cases()); n != 1 {
		t.Fatalf("status queries made cases: %d", n)
	}
}

func TestSMSOptOutAndIn(t *testing.T) {
	f := newFixture(t)
	out := f.receive(sms("SM1", "13800138000", "td"))
	if out.Outcome != app.OutcomeOptOut || !strings.Contains(out.Text, "退订") {
		t.Fatalf("opt-out: %s %q", out.Outcome, out.Text)
	}
	if o, _ := f.st.OptedOut(context.Background(), "sms-main", "+8613800138000"); !o {
		t.Fatal("opt-out not stored")
	}
	f.clock.advance(time.Second)
	if in := f.receive(sms("SM2", "+86 138 0013 8000", "订阅")); in.Outcome != app.OutcomeOptOut {
		t.Fatalf("opt-in: %s", in.Outcome)
	}
	if o, _ := f.st.OptedOut(context.Background(), "sms-main", "+8613800138000"); o {
		t.Fatal("opt-in not stored")
	}
	// "TD" inside a sentence is a submission, not a command.
	if r := f.receive(sms("SM3", "13800138000", "TD小区停车难")); r.Outcome != app.OutcomeCreated {
		t.Fatalf("sentence with TD: %s", r.Outcome)
	}
}

func TestPublicMentionsAndEvents(t *testing.T) {
	f := newFixture(t)
	f.receive(wechat("e0", "oP", "第一件事"))
	pub := wechat("e1", "oP", "@市长热线 路口红绿灯坏了")
	pub.Public = true
	r := f.receive(pub)
	if r.Outcome != app.OutcomeCreated || strings.Contains(r.Text, r.Case.QueryCode) {
		t.Fatalf("public: %s %q", r.Outcome, r.Text)
	}

	ctx := context.Background()
	ev := app.Event{ChannelID: "wechat-main", Citizen: intake.CitizenInput{WeChatOpenID: "oZ"}}
	ev.Kind = app.EventSubscribe
	if rep, err := f.r.Event(ctx, ev); err != nil || !strings.Contains(rep.Text, "感谢关注") {
		t.Fatalf("subscribe: %q %v", rep.Text, err)
	}
	ev.Kind, ev.Key = app.EventMenuClick, "HOW"
	if rep, _ := f.r.Event(ctx, ev); !strings.Contains(rep.Text, "直接发送文字") {
		t.Fatalf("menu: %q", rep.Text)
	}
	ev.Key = "UNMAPPED"
	if rep, _ := f.r.Event(ctx, ev); rep.Text != "" {
		t.Fatalf("unmapped menu key answered %q", rep.Text)
	}
	ev.Kind, ev.Key = app.EventUnsubscribe, ""
	if rep, _ := f.r.Event(ctx, ev); rep.Text != "" {
		t.Fatalf("unsubscribe answered %q", rep.Text)
	}
	if o, _ := f.st.OptedOut(ctx, "wechat-main", "oZ"); !o {
		t.Fatal("unsubscribe not recorded")
	}
	lat, lng := 37.5, 122.1
	ev.Kind, ev.Location = app.EventLocation, &intake.Location{Lat: &lat, Lng: &lng, Source: intake.LocationGPS}
	if _, err := f.r.Event(ctx, ev); err != nil {
		t.Fatal(err)
	}
	f.clock.advance(5 * time.Minute)
	c := f.receive(wechat("z1", "oZ", "这里的垃圾桶满了")).Case
	if c.Location == nil || c.Location.Lat == nil || *c.Location.Lat != lat {
		t.Fatalf("the reported location was not attached: %+v", c.Location)
	}
	f.clock.advance(time.Hour)
	c2 := f.receive(wechat("z2", "oZ", "新问题 另一处垃圾桶")).Case
	if c2.Location != nil {
		t.Fatal("a stale location was attached")
	}
}

func TestParseRating(t *testing.T) {
	for in, want := range map[string]string{
		"1": app.RatingSatisfied, "１": app.RatingSatisfied, "满意": app.RatingSatisfied, "非常满意！": app.RatingSatisfied,
		"2": app.RatingBasically, "还行吧": app.RatingBasically, "基本满意": app.RatingBasically,
		"3": app.RatingDissatisfy, "３ 路灯还是不亮": app.RatingDissatisfy, "不满意": app.RatingDissatisfy, "很不满意，没人来": app.RatingDissatisfy,
	} {
		got, _, ok := app.ParseRating(in)
		if !ok || got != want {
			t.Errorf("ParseRating(%q) = %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"12345", "4", "路灯又坏了", "", "10"} {
		if r, _, ok := app.ParseRating(in); ok {
			t.Errorf("ParseRating(%q) = %q, want no rating", in, r)
		}
	}
	if _, comment, _ := app.ParseRating("3 路灯还是不亮"); comment != "路灯还是不亮" {
		t.Errorf("comment %q", comment)
	}
}

func TestSurveyAnswers(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.receive(wechat("s1", "oS", "路灯坏了")).Case
	if _, err := f.st.AddStatus(ctx, c.ID, intake.StatusChange{Status: intake.StatusResolved, Event: "resolved", At: f.clock.Now(), Source: "cs", EventID: "r"}, nil); err != nil {
		t.Fatal(err)
	}
	// Before the question is asked, "3" is an ordinary message.
	f.clock.advance(20 * time.Minute)
	if r := f.receive(wechat("s-early", "oS", "3")); r.Outcome == app.OutcomeFeedback {
		t.Fatal("a rating was taken before the question was asked")
	}
	if _, err := f.st.QueueNotification(ctx, intake.Notification{CaseID: c.ID, Event: "survey", Channel: intake.ChannelWeChat, ChannelID: "wechat-main", Address: "oS", Text: "请评价"}); err != nil {
		t.Fatal(err)
	}
	f.clock.advance(time.Hour)
	r := f.receive(wechat("s2", "oS", "３ 还是不亮"))
	if r.Outcome != app.OutcomeFeedback || !strings.Contains(r.Text, "重新转交") {
		t.Fatalf("dissatisfied answer: %s %q", r.Outcome, r.Text)
	}
	got, _ := f.st.GetCase(ctx, c.ID)
	if got.Status != intake.StatusAssigned {
		t.Fatalf("a dissatisfied answer should reopen the case: %s", got.Status)
	}
	if again := f.receive(wechat("s2", "oS", "３ 还是不亮")); again.Outcome != app.OutcomeDuplicate || strings.Contains(again.Text, "工单编号") {
		t.Fatalf("retried answer: %s %q", again.Outcome, again.Text)
	}
	// Answered: a further "1" is not a second rating.
	if r := f.receive(wechat("s3", "oS", "1")); r.Outcome == app.OutcomeFeedback {
		t.Fatal("a second rating was taken")
	}
	ds, _ := f.st.Deliveries(ctx, c.ID)
	feedback := 0
	for _, d := range ds {
		if d.Event == intake.EventCaseFeedback {
			feedback++
		}
	}
	if feedback != 1 {
		t.Fatalf("%d case.feedback deliveries, want 1", feedback)
	}
}

// A follow-up message is held to the same timestamp rule as a new case: before, a message dated
// a day ahead (or in 1999) joined the citizen's open case unchecked.
func TestSupplementWithAnImpossibleTimestampIsRefused(t *testing.T) {
	f := newFixture(t)
	first := f.receive(wechat("t1", "oT", "小区门口的路灯坏了，晚上很黑。"))
	for _, at := range []time.Time{f.clock.Now().Add(24 * time.Hour), time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)} {
		msg := wechat("t2-"+at.Format("2006"), "oT", "补充：靠近东门那一盏。")
		msg.Submission.OccurredAt = at
		_, err := f.r.Receive(context.Background(), msg)
		var ve *intake.ValidationError
		if !errors.As(err, &ve) || !ve.HasReason(intake.ReasonTimestampRange) {
			t.Fatalf("supplement dated %s: %v, want a timestamp-range validation error", at, err)
		}
	}
	got, _ := f.st.GetCase(context.Background(), first.Case.ID)
	if got.Content.Text != first.Case.Content.Text {
		t.Fatalf("the case grew: %q", got.Content.Text)
	}
}
