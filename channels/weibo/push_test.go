package weibo_test

import (
	"context"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hotline12345/intake-gateway/internal/app"

	intake "github.com/hotline12345/intake-gateway"
)

var createdAt = time.Date(2025, 11, 27, 16, 0, 0, 0, time.FixedZone("", 8*3600))

func TestSignatureVector(t *testing.T) {
	for _, v := range loadVectors(t) {
		if got := sign(v.AppSecret, v.Timestamp, v.Nonce); got != v.Signature {
			t.Fatalf("%s: the test's own signer gives %s, want %s", v.Case, got, v.Signature)
		}
	}
}

// TestURLCheckWithWikiVector makes the URL check with the wiki's published values: the adapter
// must accept them as they are (a millisecond timestamp) and echo echostr.
func TestURLCheckWithWikiVector(t *testing.T) {
	v := loadVectors(t)[0]
	cfg := channelConfig(map[string]any{"timestamp_window": "1m"})
	cfg.AppSecret = v.AppSecret
	ms, err := strconv.ParseInt(v.Timestamp, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	hh := serveConfig(t, &fakeReceiver{}, cfg, time.UnixMilli(ms+30_000), nil)
	req := request{Method: http.MethodGet, Timestamp: v.Timestamp, Nonce: v.Nonce, Secret: v.AppSecret,
		Query: map[string]string{"signature": v.Signature, "echostr": "abc123"}}.build()
	rec := hh.do(req)
	if rec.Code != http.StatusOK || rec.Body.String() != "abc123" {
		t.Fatalf("URL check: %d %q", rec.Code, rec.Body.String())
	}
	// The same request with the last hex digit changed is refused.
	bad := []byte(v.Signature)
	bad[len(bad)-1] ^= 1
	req = request{Method: http.MethodGet, Timestamp: v.Timestamp, Nonce: v.Nonce, Secret: v.AppSecret,
		Query: map[string]string{"signature": string(bad), "echostr": "abc123"}}.build()
	if rec := hh.do(req); rec.Code != http.StatusForbidden {
		t.Fatalf("altered signature: %d", rec.Code)
	}
}

func TestURLCheck(t *testing.T) {
	h := newHarness(t, nil)
	rec := h.send(request{Method: http.MethodGet})
	if rec.Code != http.StatusOK || rec.Body.String() != "8734567219374562" {
		t.Fatalf("URL check: %d %q", rec.Code, rec.Body.String())
	}
	if msgs, evs := h.recv.calls(); len(msgs)+len(evs) != 0 {
		t.Fatal("URL check called the Receiver")
	}
}

type wantMsg struct {
	text     string
	public   bool
	location *[2]float64
	attach   *intake.Attachment
	metadata map[string]string
}

type wantEvent struct {
	kind app.EventKind
	key  string
}

// pushCases are raw bodies exactly as Weibo pushes them (field order and formats of the wiki's
// examples) and what the Receiver must get.
var pushCases = []struct {
	name  string
	body  string
	msg   *wantMsg
	event *wantEvent
	// none: acknowledged with an empty body, the Receiver not called.
	none bool
}{
	{name: "text", body: body("text", "小区门口路灯坏了三天，晚上很黑", "{}"),
		msg: &wantMsg{text: "小区门口路灯坏了三天，晚上很黑", metadata: map[string]string{"weibo_type": "text"}}},
	{name: "text without data", body: `{"type":"text","receiver_id":1902538057,"sender_id":2489518277,"created_at":"Thu Nov 27 16:00:00 +0800 2025","text":"噪音扰民"}`,
		msg: &wantMsg{text: "噪音扰民"}},
	{name: "text with escapes", body: body("text", `他说：\"快修\"\n\u8def\u706f`, "{}"),
		msg: &wantMsg{text: "他说：\"快修\"\n路灯"}},
	{name: "position", body: body("position", "", `{"longitude":"122.1201","latitude":"37.5133"}`),
		msg: &wantMsg{text: "[位置]", location: &[2]float64{37.5133, 122.1201}}},
	{name: "position as numbers", body: body("position", "我在这里", `{"longitude":122.1201,"latitude":37.5133}`),
		msg: &wantMsg{text: "[位置] 我在这里", location: &[2]float64{37.5133, 122.1201}}},
	{name: "image", body: body("image", "", `{"vfid":821804459,"tovfid":821804469}`),
		msg: &wantMsg{text: "[图片]", attach: &intake.Attachment{Kind: intake.AttachmentImage, MediaID: "821804469"},
			metadata: map[string]string{"weibo_type": "image", "weibo_vfid": "821804459"}}},
	{name: "image with string ids", body: body("image", "", `{"vfid":"821804459","tovfid":"821804469"}`),
		msg: &wantMsg{text: "[图片]", attach: &intake.Attachment{Kind: intake.AttachmentImage, MediaID: "821804469"}}},
	{name: "voice", body: body("voice", "", `{"vfid":821804459,"tovfid":9007199254740993123}`),
		// A file id beyond float64's precision keeps its digits.
		msg: &wantMsg{text: "[语音]", attach: &intake.Attachment{Kind: intake.AttachmentAudio, MediaID: "9007199254740993123"}}},
	{name: "mention of a post", body: body("mention", "@威海12345 环翠区文化路井盖丢失，很危险", `{"subtype":"status","key":3475071227451289}`),
		msg: &wantMsg{text: "@威海12345 环翠区文化路井盖丢失，很危险", public: true,
			metadata: map[string]string{"weibo_type": "mention", "weibo_mention_subtype": "status", "weibo_mention_id": "3475071227451289"}}},
	{name: "mention in a comment", body: body("mention", "回复@威海12345: 还没修", `{"subtype":"comment","key":"3475071227451777"}`),
		msg: &wantMsg{text: "回复@威海12345: 还没修", public: true, metadata: map[string]string{"weibo_mention_subtype": "comment"}}},
	{name: "follow", body: body("event", "", `{"subtype":"follow"}`), event: &wantEvent{kind: app.EventSubscribe}},
	{name: "subscribe", body: body("event", "", `{"subtype":"subscribe"}`), event: &wantEvent{kind: app.EventSubscribe}},
	{name: "unfollow", body: body("event", "", `{"subtype":"unfollow"}`), event: &wantEvent{kind: app.EventUnsubscribe}},
	{name: "unsubscribe", body: body("event", "", `{"subtype":"unsubscribe"}`), event: &wantEvent{kind: app.EventUnsubscribe}},
	{name: "scan", body: body("event", "", `{"subtype":"scan","key":"qr_huancui","ticket":"gQH47joAAAAAAAAAASxodHRw"}`),
		event: &wantEvent{kind: app.EventScan, key: "qr_huancui"}},
	{name: "scan_follow", body: body("event", "", `{"subtype":"scan_follow","key":"qr_wendeng","ticket":"gQH47joAAAAAAAAAASxodHRw"}`),
		event: &wantEvent{kind: app.EventScan, key: "qr_wendeng"}},
	{name: "menu click", body: body("event", "", `{"subtype":"click","key":"how_to_submit"}`),
		event: &wantEvent{kind: app.EventMenuClick, key: "how_to_submit"}},
	{name: "view", body: body("event", "", `{"subtype":"view","key":"http://12345.weihai.gov.cn"}`), none: true},
	{name: "unknown event subtype", body: body("event", "", `{"subtype":"card_pay"}`), none: true},
	{name: "unknown type", body: body("articles", "", `{"articles":[]}`), none: true},
	{name: "unknown type with another shape", body: `{"type":"trade","receiver_id":1902538057,"sender_id":2489518277,"created_at":12}`, none: true},
}

func TestPushTypes(t *testing.T) {
	for _, tc := range pushCases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, nil)
			rec := h.send(request{Body: tc.body})
			msgs, evs := h.recv.calls()
			switch {
			case tc.none:
				if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
					t.Fatalf("want 200 with an empty body, got %d %q", rec.Code, rec.Body.String())
				}
				if len(msgs)+len(evs) != 0 {
					t.Fatal("Receiver called")
				}
				return
			case tc.msg != nil:
				if len(msgs) != 1 || len(evs) != 0 {
					t.Fatalf("want one message, got %d messages %d events (status %d %s)", len(msgs), len(evs), rec.Code, rec.Body.String())
				}
				checkMessage(t, msgs[0], tc.msg, tc.body)
				checkReply(t, rec, msgs[0].Submission.ExternalID)
			case tc.event != nil:
				if len(evs) != 1 || len(msgs) != 0 {
					t.Fatalf("want one event, got %d messages %d events (status %d %s)", len(msgs), len(evs), rec.Code, rec.Body.String())
				}
				ev := evs[0]
				if ev.Kind != tc.event.kind || ev.Key != tc.event.key || ev.Channel != intake.ChannelWeibo || ev.ChannelID != channelID ||
					ev.Citizen.WeiboUID != senderUID || !strings.HasPrefix(ev.ExternalID, senderUID+":1764230400:") {
					t.Fatalf("event %+v", ev)
				}
				if ev.Kind == app.EventUnsubscribe {
					if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
						t.Fatalf("unsubscribe: want an empty 200, got %d %q", rec.Code, rec.Body.String())
					}
					return
				}
				checkReply(t, rec, ev.ExternalID)
			}
		})
	}
}

func checkMessage(t *testing.T, m app.Message, want *wantMsg, body string) {
	t.Helper()
	sub := m.Submission
	if sub.Channel != intake.ChannelWeibo || sub.ChannelID != channelID {
		t.Errorf("channel %q %q", sub.Channel, sub.ChannelID)
	}
	if sub.Text != want.text {
		t.Errorf("text %q, want %q", sub.Text, want.text)
	}
	if m.Public != want.public {
		t.Errorf("public %v", m.Public)
	}
	if sub.Citizen != (intake.CitizenInput{WeiboUID: senderUID}) {
		t.Errorf("citizen %+v", sub.Citizen)
	}
	if !sub.OccurredAt.Equal(createdAt) {
		t.Errorf("occurred at %v", sub.OccurredAt)
	}
	if !strings.HasPrefix(sub.ExternalID, senderUID+":1764230400:") || len(sub.ExternalID) != len(senderUID+":1764230400:")+16 {
		t.Errorf("external id %q", sub.ExternalID)
	}
	if string(sub.Raw.Body) != body || sub.Raw.ContentType != "application/json" {
		t.Errorf("raw %q %q", sub.Raw.ContentType, sub.Raw.Body)
	}
	if _, err := hex.DecodeString(sub.PayloadHash); err != nil || len(sub.PayloadHash) != 64 {
		t.Errorf("payload hash %q", sub.PayloadHash)
	}
	if want.location == nil {
		if sub.Location != nil {
			t.Errorf("location %+v", sub.Location)
		}
	} else if l := sub.Location; l == nil || l.Lat == nil || l.Lng == nil || *l.Lat != want.location[0] || *l.Lng != want.location[1] || l.Source != intake.LocationGPS {
		t.Errorf("location %+v", l)
	}
	if want.attach == nil {
		if len(sub.Attachments) != 0 {
			t.Errorf("attachments %+v", sub.Attachments)
		}
	} else if len(sub.Attachments) != 1 || sub.Attachments[0] != *want.attach {
		t.Errorf("attachments %+v, want %+v", sub.Attachments, *want.attach)
	}
	for k, v := range want.metadata {
		if sub.Metadata[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, sub.Metadata[k], v)
		}
	}
}

// checkReply: the fake Receiver answers "收到:<external id>", which must come back as the passive
// reply from the account to the sender.
func checkReply(t *testing.T, rec *httptest.ResponseRecorder, externalID string) {
	t.Helper()
	p := readPassive(t, rec)
	if !p.Result || p.SenderID != accountUID || p.ReceiverID != senderUID || p.Type != "text" || p.text != "收到:"+externalID {
		t.Fatalf("reply %+v", p)
	}
}

func TestPassiveReply(t *testing.T) {
	h := newHarness(t, nil)
	rec := h.send(request{Body: body("text", "路灯坏了", "{}")})
	p := readPassive(t, rec)
	msgs, _ := h.recv.calls()
	if !p.Result || p.SenderID != accountUID || p.ReceiverID != senderUID || p.Type != "text" || p.text != "收到:"+msgs[0].Submission.ExternalID {
		t.Fatalf("reply %+v", p)
	}
	// The data value is what PHP's urlencode and Go's QueryEscape make of the JSON: no raw
	// quotes, braces or non-ASCII.
	if strings.ContainsAny(p.Data, `"{}: `) || strings.ContainsFunc(p.Data, func(r rune) bool { return r > 127 }) {
		t.Fatalf("data not url-encoded: %q", p.Data)
	}
}

func TestReplyTextCutUnder300(t *testing.T) {
	recv := &fakeReceiver{}
	long := strings.Repeat("工", 290) + strings.Repeat("😀", 20) // 310 runes, 4-byte ones at the end
	recv.answer = func(context.Context, string) (app.Reply, error) {
		return app.Reply{Text: long, Outcome: app.OutcomeCreated}, nil
	}
	h := serve(t, recv, nil, nil)
	p := readPassive(t, h.send(request{Body: body("text", "路灯坏了", "{}")}))
	if n := utf8.RuneCountInString(p.text); n >= 300 || n < 290 {
		t.Fatalf("reply has %d runes", n)
	}
	if !utf8.ValidString(p.text) || !strings.HasSuffix(p.text, "…") || !strings.HasPrefix(long, strings.TrimSuffix(p.text, "…")) {
		t.Fatalf("cut badly: %q", p.text)
	}

	// 299 runes pass unchanged.
	exact := strings.Repeat("路", 299)
	recv.answer = func(context.Context, string) (app.Reply, error) { return app.Reply{Text: exact}, nil }
	if p := readPassive(t, h.send(request{Body: body("text", "路灯坏了", "{}")})); p.text != exact {
		t.Fatalf("299 runes changed: %d runes", utf8.RuneCountInString(p.text))
	}
}

func TestEmptyReplyIsEmptyBody(t *testing.T) {
	recv := &fakeReceiver{answer: func(context.Context, string) (app.Reply, error) {
		return app.Reply{Outcome: app.OutcomeDuplicate}, nil
	}}
	h := serve(t, recv, nil, nil)
	rec := h.send(request{Body: body("text", "路灯坏了", "{}")})
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("got %d %q", rec.Code, rec.Body.String())
	}
}

// TestDedupIdentity: a retry (also re-serialized) keeps the external id; a different message in
// the same second, or of another type, gets another.
func TestDedupIdentity(t *testing.T) {
	h := newHarness(t, nil)
	// hashes are the payload hashes of the messages seen, by body.
	hashes := map[string]string{}
	id := func(b string) string {
		t.Helper()
		h.recv.reset()
		rec := h.send(request{Body: b})
		msgs, evs := h.recv.calls()
		switch {
		case len(msgs) == 1:
			hashes[b] = msgs[0].Submission.PayloadHash
			return msgs[0].Submission.ExternalID
		case len(evs) == 1:
			return evs[0].ExternalID
		}
		t.Fatalf("no call for %s: %d %s", b, rec.Code, rec.Body.String())
		return ""
	}
	first := id(body("image", "", `{"vfid":821804459,"tovfid":821804469}`))
	retry := id(body("image", "", `{"vfid":821804459,"tovfid":821804469}`))
	reordered := id("{\n  \"sender_id\": 2489518277, \"type\": \"image\", \"data\": { \"tovfid\": 821804469, \"vfid\": 821804459 },\n" +
		"  \"text\": \"\", \"created_at\": \"Thu Nov 27 16:00:00 +0800 2025\", \"receiver_id\": 1902538057 }")
	otherImage := id(body("image", "", `{"vfid":821804460,"tovfid":821804470}`))
	if first != retry || first != reordered {
		t.Fatalf("retry changed the id: %s %s %s", first, retry, reordered)
	}
	if otherImage == first {
		t.Fatal("two images in one second share an id")
	}
	a := id(body("text", "第一条", "{}"))
	b := id(body("text", "第二条", "{}"))
	if a == b {
		t.Fatal("two texts in one second share an id")
	}
	follow := id(body("event", "", `{"subtype":"follow"}`))
	click := id(body("event", "", `{"subtype":"click","key":"how_to_submit"}`))
	if follow == click {
		t.Fatal("two events in one second share an id")
	}
	// created_at in another zone but the same instant is the same push.
	sameInstant := id(strings.Replace(body("text", "第一条", "{}"), "Thu Nov 27 16:00:00 +0800 2025", "Thu Nov 27 08:00:00 +0000 2025", 1))
	if sameInstant != a {
		t.Fatalf("same instant, other zone: %s vs %s", sameInstant, a)
	}
	// The payload hash follows the content, not the bytes: the copies above that are the same
	// push have one hash (the core takes a different hash under one id for another message).
	byHash := map[string][]string{}
	for b, h := range hashes {
		byHash[h] = append(byHash[h], b)
	}
	if len(byHash) != 4 { // the image and its two copies; the other image; the two texts (one sent twice)
		t.Fatalf("%d distinct payload hashes for 4 distinct pushes: %v", len(byHash), byHash)
	}
}

func TestReceiverDeadline(t *testing.T) {
	h := newHarness(t, map[string]any{"reply_timeout": "2s"})
	h.send(request{Body: body("text", "路灯坏了", "{}")})
	h.recv.mu.Lock()
	defer h.recv.mu.Unlock()
	if len(h.recv.deadlines) != 1 || h.recv.deadlines[0] <= 0 || h.recv.deadlines[0] > 2*time.Second {
		t.Fatalf("deadlines %v", h.recv.deadlines)
	}
	h2 := newHarness(t, nil)
	h2.send(request{Body: body("text", "路灯坏了", "{}")})
	if d := h2.recv.deadlines; len(d) != 1 || d[0] <= 2*time.Second || d[0] > 3*time.Second {
		t.Fatalf("default deadline %v", d)
	}
}

func TestUnknownTypesCounted(t *testing.T) {
	h := newHarness(t, nil)
	for i := 0; i < 2; i++ {
		h.send(request{Body: body("articles", "", `{}`)})
	}
	h.send(request{Body: body("event", "", `{"subtype":"card_pay"}`)})
	if got := h.counter(t, "intake_weibo_unknown_total", map[string]string{"channel_id": channelID, "type": "articles"}); got != 2 {
		t.Fatalf("articles counted %v", got)
	}
	if got := h.counter(t, "intake_weibo_unknown_total", map[string]string{"type": "event:card_pay"}); got != 1 {
		t.Fatalf("event:card_pay counted %v", got)
	}
	// A view event is handled, not unknown.
	h.send(request{Body: body("event", "", `{"subtype":"view","key":"http://x"}`)})
	if got := h.counter(t, "intake_weibo_unknown_total", map[string]string{"type": "event:view"}); got != 0 {
		t.Fatalf("view counted as unknown")
	}
}
