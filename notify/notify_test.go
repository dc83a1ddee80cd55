package notify_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels"
	"github.com/hotline12345/intake-gateway/channels/wechat"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxapi"
	"github.com/hotline12345/intake-gateway/channels/wechat/wxtest"
	"github.com/hotline12345/intake-gateway/configs"
	"github.com/hotline12345/intake-gateway/internal/jobs"
	"github.com/hotline12345/intake-gateway/internal/replies"
	"github.com/hotline12345/intake-gateway/notify"
	"github.com/hotline12345/intake-gateway/store/sqlite"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

// fakeSMS records what it sends; it stands in for the Twilio sender.
type fakeSMS struct {
	mu   sync.Mutex
	sent []intake.Outgoing
}

func (f *fakeSMS) Send(_ context.Context, msg intake.Outgoing) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, msg)
	return fmt.Sprintf("SM%d", len(f.sent)), nil
}

func (f *fakeSMS) count() int { f.mu.Lock(); defer f.mu.Unlock(); return len(f.sent) }

// outcomes records what the worker tells its observer.
type outcomes struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *outcomes) Notified(ch intake.ChannelKind, outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.n[string(ch)+"/"+outcome]++
}

// wait returns the count of key once it is at least want, or after a second.
func (o *outcomes) wait(key string, want int) int {
	deadline := time.Now().Add(time.Second)
	for {
		o.mu.Lock()
		got := o.n[key]
		o.mu.Unlock()
		if got >= want || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type fixture struct {
	obs   *outcomes
	t     *testing.T
	st    *sqlite.Store
	n     *notify.Notifier
	api   *wxtest.FakeAPI
	sms   *fakeSMS
	texts *replies.Replies
}

func newFixture(t *testing.T, withTemplate bool) *fixture {
	t.Helper()
	api := wxtest.NewFakeAPI("wxapp", "secret")
	t.Cleanup(api.Close)
	texts, err := replies.Parse(configs.Messages)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, api: api, sms: &fakeSMS{}, texts: texts, obs: &outcomes{n: map[string]int{}}}

	client, err := wxapi.New(wxapi.Config{AppID: "wxapp", AppSecret: "secret", BaseURL: api.URL, Tokens: wxapi.NewMemoryTokenStore()})
	if err != nil {
		t.Fatal(err)
	}
	chCfg := channels.Config{ID: "wechat-main", Type: "wechat", Settings: map[string]any{}}
	if withTemplate {
		chCfg.Settings["notify_template"] = map[string]any{"id": "TPL1", "fields": map[string]any{"first": "{{.Text}}", "keyword1": "{{.CaseNo}}"}}
	}
	wxSender, err := wechat.NewSender(chCfg, client)
	if err != nil {
		t.Fatal(err)
	}
	cfg := notify.Options{Events: []string{"accepted", "resolved", "progress"}, Survey: true, SurveyWindow: 7 * 24 * time.Hour}
	routes := map[string]notify.Route{
		"wechat-main": {Kind: intake.ChannelWeChat, Sender: wxSender},
		"sms-main":    {Kind: intake.ChannelSMS, Sender: f.sms},
	}
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "n.db"), Options: storetest.Options()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.n = notify.New(st, func() *replies.Replies { return f.texts }, cfg, routes, "sms-main", nil, nil)
	workers := river.NewWorkers()
	river.AddWorker(workers, notify.NewWorker(f.n, f.obs))
	runner, err := jobs.RunnerFor(st, &river.Config{Workers: workers, Queues: map[string]river.QueueConfig{jobs.QueueNotify: {MaxWorkers: 4}},
		FetchCooldown: 5 * time.Millisecond, FetchPollInterval: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler),
		SkipUnknownJobCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := runner.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { runner.Stop(context.Background()) })
	f.st = st
	return f
}

func (f *fixture) wechatCase(ext string, mutate func(*intake.Case)) *intake.Case {
	f.t.Helper()
	nc := storetest.NewCase("wechat-main", ext, time.Now().UTC())
	nc.Case.Channel = intake.ChannelWeChat
	nc.Case.Citizen = intake.Citizen{WeChatOpenID: "o" + ext, Phone: "+8613800138000"}
	if mutate != nil {
		mutate(nc.Case)
	}
	res, err := f.st.CreateCase(context.Background(), nc)
	if err != nil {
		f.t.Fatal(err)
	}
	return res.Case
}

func (f *fixture) settled(caseID string, n int) []intake.Notification {
	f.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		list, err := f.st.CaseNotifications(context.Background(), caseID)
		if err != nil {
			f.t.Fatal(err)
		}
		done := len(list) == n
		for _, x := range list {
			done = done && x.State != intake.NotificationQueued
		}
		if done {
			return list
		}
		if time.Now().After(deadline) {
			f.t.Fatalf("notifications did not settle: %+v", list)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (f *fixture) event(c *intake.Case, event, msg string) {
	f.t.Helper()
	status, _ := intake.StatusForEvent(event)
	ch := intake.StatusChange{Status: status, Event: event, At: time.Now(), Source: "cs", EventID: event + c.ID, Department: "市城管局", Message: msg}
	notes, err := f.n.Plan(c, ch)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.st.AddStatus(context.Background(), c.ID, ch, notes); err != nil {
		f.t.Fatal(err)
	}
}

func TestResolvedCaseIsNotifiedAndAskedForFeedback(t *testing.T) {
	f := newFixture(t, false)
	c := f.wechatCase("a", nil)
	f.event(c, "resolved", "路灯已修复")
	list := f.settled(c.ID, 2)
	if list[0].Event != "resolved" || list[0].State != intake.NotificationSent || list[0].Channel != intake.ChannelWeChat {
		t.Fatalf("first notification %+v", list[0])
	}
	if list[1].Event != "survey" || list[1].State != intake.NotificationSent {
		t.Fatalf("survey %+v", list[1])
	}
	sent := f.api.Sent()
	if len(sent) != 2 || !strings.Contains(fmt.Sprint(sent[0].Body), "路灯已修复") || !strings.Contains(fmt.Sprint(sent[1].Body), "1 满意") {
		t.Fatalf("WeChat got %+v", sent)
	}
	// An event type that is not configured to notify sends nothing.
	f.event(c, "closed", "")
	time.Sleep(100 * time.Millisecond)
	if l, _ := f.st.CaseNotifications(context.Background(), c.ID); len(l) != 2 {
		t.Fatalf("closed notified: %d", len(l))
	}
}

func TestOutOfWindowUsesTheTemplateMessage(t *testing.T) {
	f := newFixture(t, true)
	c := f.wechatCase("b", nil)
	f.api.FailNext("/cgi-bin/message/custom/send", 45015)
	f.event(c, "accepted", "")
	list := f.settled(c.ID, 1)
	if list[0].State != intake.NotificationSent || list[0].Channel != intake.ChannelWeChat || list[0].ProviderRef == "" {
		t.Fatalf("template message: %+v", list[0])
	}
	sent := f.api.Sent()
	if last := sent[len(sent)-1]; last.Path != "/cgi-bin/message/template/send" || !strings.Contains(fmt.Sprint(last.Body), c.CaseNo) {
		t.Fatalf("template send %+v", last)
	}
}

func TestFallsBackToSMSWhenWeChatCannotDeliver(t *testing.T) {
	f := newFixture(t, false)
	c := f.wechatCase("c", nil)
	f.api.FailNext("/cgi-bin/message/custom/send", 45015)
	f.event(c, "accepted", "")
	list := f.settled(c.ID, 1)
	n := list[0]
	if n.State != intake.NotificationSent || n.Channel != intake.ChannelSMS || n.ChannelID != "sms-main" || n.ProviderRef != "SM1" ||
		!strings.Contains(n.Reason, "45015") || !strings.Contains(n.Reason, "fell back to SMS") {
		t.Fatalf("fallback: %+v", n)
	}
	if f.sms.count() != 1 || f.sms.sent[0].Address != "+8613800138000" {
		t.Fatalf("sms %+v", f.sms.sent)
	}
	// The observer counts the send by the channel it finally went out on.
	if got := f.obs.wait("sms/sent", 1); got != 1 || len(f.obs.n) != 1 {
		t.Fatalf("observed outcomes %v, want sms/sent once", f.obs.n)
	}
	// The delivery report from the SMS platform lands on the notification.
	if found, err := f.st.UpdateNotificationByRef(context.Background(), "sms-main", "SM1", intake.NotificationDelivered, "", time.Now()); err != nil || !found {
		t.Fatal(err)
	}
	if l, _ := f.st.CaseNotifications(context.Background(), c.ID); l[0].State != intake.NotificationDelivered {
		t.Fatal("delivery report not recorded")
	}
}

func TestOptOutsAnonymityAndConfidentiality(t *testing.T) {
	f := newFixture(t, false)
	// Anonymous and unreachable on WeChat: no SMS fallback to the phone.
	anon := f.wechatCase("d", func(c *intake.Case) { c.Citizen.Anonymous = true })
	f.api.FailNext("/cgi-bin/message/custom/send", 43004)
	f.event(anon, "accepted", "")
	if l := f.settled(anon.ID, 1); l[0].State != intake.NotificationFailed || l[0].Channel != intake.ChannelWeChat || f.sms.count() != 0 {
		t.Fatalf("anonymous: %+v, sms %d", l[0], f.sms.count())
	}
	// Opted out of WeChat notifications and of SMS: nothing is sent, the reason is kept.
	out := f.wechatCase("e", nil)
	_ = f.st.SetOptOut(context.Background(), "wechat-main", "oe", true, time.Now())
	_ = f.st.SetOptOut(context.Background(), "sms-main", "+8613800138000", true, time.Now())
	f.event(out, "accepted", "")
	if l := f.settled(out.ID, 1); l[0].State != intake.NotificationFailed || !strings.Contains(l[0].Reason, "opted out") {
		t.Fatalf("opted out: %+v", l[0])
	}
	sentBefore := len(f.api.Sent())
	// Confidential: the text says there is news, not what it is.
	conf := f.wechatCase("f", func(c *intake.Case) { c.Citizen.Confidential = true })
	f.event(conf, "progress", "已约谈物业公司负责人")
	f.settled(conf.ID, 1)
	sent := f.api.Sent()
	if len(sent) != sentBefore+1 || strings.Contains(fmt.Sprint(sent[len(sent)-1].Body), "约谈") {
		t.Fatalf("confidential notification leaked the message: %+v", sent[len(sent)-1])
	}
}
