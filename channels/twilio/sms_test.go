package twilio_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/internal/app"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels/twilio"
)

const smsPath = "/hooks/twilio/sms-main/sms"

// Raw bodies as Twilio posts them (field order and encoding from real inbound-SMS webhooks).
const (
	bodyPlain      = "ToCountry=US&ToState=CA&SmsMessageSid=SM9a8b7c6d5e4f30211203f4e5d6c7b8a9&NumMedia=0&ToCity=&FromZip=&SmsSid=SM9a8b7c6d5e4f30211203f4e5d6c7b8a9&FromState=%E5%B1%B1%E4%B8%9C&SmsStatus=received&FromCity=%E5%A8%81%E6%B5%B7&Body=%E5%B0%8F%E5%8C%BA%E9%97%A8%E5%8F%A3%E7%9A%84%E8%B7%AF%E7%81%AF%E5%9D%8F%E4%BA%86%E4%B8%80%E4%B8%AA%E6%98%9F%E6%9C%9F%E4%BA%86%EF%BC%8C%E6%99%9A%E4%B8%8A%E5%BE%88%E9%BB%91%EF%BC%8C%E8%AF%B7%E5%B0%BD%E5%BF%AB%E4%BF%AE%E7%90%86%E3%80%82&FromCountry=CN&To=%2B15005550006&ToZip=&NumSegments=1&MessageSid=SM9a8b7c6d5e4f30211203f4e5d6c7b8a9&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B8613800001234&ApiVersion=2010-04-01"
	bodyStructured = "ToCountry=US&ToState=CA&SmsMessageSid=SM0123456789abcdef0123456789abcdef&NumMedia=0&ToCity=&FromZip=&SmsSid=SM0123456789abcdef0123456789abcdef&FromState=&SmsStatus=received&FromCity=&Body=12345%23%E6%9D%8E%E5%A5%B3%E5%A3%AB%23%E7%8E%AF%E7%BF%A0%E5%8C%BA%23%E8%B7%AF%E7%81%AF%E5%9D%8F%E4%BA%86&FromCountry=CN&To=%2B15005550006&ToZip=&NumSegments=1&MessageSid=SM0123456789abcdef0123456789abcdef&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B8613800001234&ApiVersion=2010-04-01"
	bodyFullWidth  = "ToCountry=US&NumMedia=0&Body=12345%EF%BC%83%E7%8E%8B%E5%85%88%E7%94%9F%EF%BC%83%E6%96%87%E7%99%BB%E5%8C%BA%E7%B1%B3%E5%B1%B1%E8%B7%AF8%E5%8F%B7%EF%BC%83%E6%A5%BC%E4%B8%8B%E9%A5%AD%E5%BA%97%E6%B2%B9%E7%83%9F%E6%89%B0%E6%B0%91&FromCountry=CN&To=%2B15005550006&NumSegments=1&MessageSid=SM11111111111111111111111111111111&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B8613900002222&ApiVersion=2010-04-01"
	bodyMMS        = "ToCountry=US&MediaContentType0=image%2Fjpeg&MediaContentType1=video%2Fmp4&NumMedia=2&Body=%E8%BF%99%E6%98%AF%E5%9B%BE%E7%89%87&FromCountry=CN&To=%2B15005550006&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC0123456789abcdef0123456789abcdef%2FMessages%2FMM22222222222222222222222222222222%2FMedia%2FME00000000000000000000000000000000&MediaUrl1=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC0123456789abcdef0123456789abcdef%2FMessages%2FMM22222222222222222222222222222222%2FMedia%2FME11111111111111111111111111111111&NumSegments=1&MessageSid=MM22222222222222222222222222222222&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B8613800001234&ApiVersion=2010-04-01"
	bodyMMSNoText  = "MediaContentType0=image%2Fpng&NumMedia=1&Body=&To=%2B15005550006&MediaUrl0=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC0%2FMessages%2FMM3%2FMedia%2FME3&NumSegments=1&MessageSid=MM33333333333333333333333333333333&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B8613800001234&ApiVersion=2010-04-01"
)

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// canonicalHash is the payload hash the package promises: sorted names, sorted values.
func canonicalHash(t *testing.T, body string) string {
	t.Helper()
	p, err := url.ParseQuery(body)
	if err != nil {
		t.Fatal(err)
	}
	for k := range p {
		slices.Sort(p[k])
	}
	return sha256Hex(p.Encode())
}

func TestSMSWebhookParses(t *testing.T) {
	cases := []struct {
		name  string
		body  string
		check func(t *testing.T, sub intake.Submission)
	}{
		{"plain text", bodyPlain, func(t *testing.T, sub intake.Submission) {
			want := "小区门口的路灯坏了一个星期了，晚上很黑，请尽快修理。"
			if sub.Text != want {
				t.Errorf("text = %q", sub.Text)
			}
			if sub.Citizen.Name != "" || sub.Location != nil || len(sub.Attachments) != 0 {
				t.Errorf("unexpected name/location/attachments: %+v", sub)
			}
			wantMeta := map[string]string{"from_city": "威海", "from_state": "山东", "from_country": "CN", "to": "+15005550006"}
			if fmt.Sprint(sub.Metadata) != fmt.Sprint(wantMeta) {
				t.Errorf("metadata = %v, want %v", sub.Metadata, wantMeta)
			}
		}},
		{"structured half-width", bodyStructured, func(t *testing.T, sub intake.Submission) {
			if sub.Text != "路灯坏了" || sub.Citizen.Name != "李女士" {
				t.Errorf("text %q name %q", sub.Text, sub.Citizen.Name)
			}
			if sub.Location == nil || sub.Location.Address != "环翠区" || sub.Location.Source != intake.LocationText {
				t.Errorf("location = %+v", sub.Location)
			}
			if sub.Metadata["sms_format"] != "structured" {
				t.Errorf("metadata = %v", sub.Metadata)
			}
		}},
		{"structured full-width", bodyFullWidth, func(t *testing.T, sub intake.Submission) {
			if sub.Text != "楼下饭店油烟扰民" || sub.Citizen.Name != "王先生" || sub.Location.Address != "文登区米山路8号" {
				t.Errorf("got text %q name %q location %+v", sub.Text, sub.Citizen.Name, sub.Location)
			}
			if sub.Citizen.Phone != "+8613900002222" {
				t.Errorf("phone = %q", sub.Citizen.Phone)
			}
		}},
		{"mms", bodyMMS, func(t *testing.T, sub intake.Submission) {
			if sub.Text != "这是图片" || len(sub.Attachments) != 2 {
				t.Fatalf("text %q attachments %+v", sub.Text, sub.Attachments)
			}
			a0, a1 := sub.Attachments[0], sub.Attachments[1]
			if a0.Kind != intake.AttachmentImage || a0.ContentType != "image/jpeg" || !strings.HasSuffix(a0.URL, "/Media/ME00000000000000000000000000000000") {
				t.Errorf("attachment 0 = %+v", a0)
			}
			if a1.Kind != intake.AttachmentVideo || a1.ContentType != "video/mp4" || !strings.HasSuffix(a1.URL, "/ME11111111111111111111111111111111") {
				t.Errorf("attachment 1 = %+v", a1)
			}
			if sub.ExternalID != "MM22222222222222222222222222222222" {
				t.Errorf("external id = %q", sub.ExternalID)
			}
		}},
		{"mms without text", bodyMMSNoText, func(t *testing.T, sub intake.Submission) {
			if sub.Text != twilio.MediaOnlyText || sub.Metadata["media_only"] != "true" {
				t.Errorf("text %q metadata %v", sub.Text, sub.Metadata)
			}
			if len(sub.Attachments) != 1 || sub.Attachments[0].Kind != intake.AttachmentImage {
				t.Errorf("attachments = %+v", sub.Attachments)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, rcv := newServer(t, setup{})
			rec := post(e, smsPath, c.body, signBody(t, testToken, publicBase+smsPath, c.body))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			msgs := rcv.received()
			if len(msgs) != 1 {
				t.Fatalf("receiver got %d messages", len(msgs))
			}
			sub := msgs[0].Submission
			p, _ := url.ParseQuery(c.body)
			if sub.Channel != intake.ChannelSMS || sub.ChannelID != "sms-main" || sub.ExternalID != p.Get("MessageSid") {
				t.Errorf("channel %q id %q external %q", sub.Channel, sub.ChannelID, sub.ExternalID)
			}
			if sub.Citizen.Phone != p.Get("From") {
				t.Errorf("phone = %q", sub.Citizen.Phone)
			}
			if !sub.OccurredAt.IsZero() {
				t.Errorf("occurred_at = %v; Twilio sends no timestamp", sub.OccurredAt)
			}
			if string(sub.Raw.Body) != c.body || sub.Raw.ContentType != "application/x-www-form-urlencoded" {
				t.Errorf("raw = %q %q", sub.Raw.ContentType, sub.Raw.Body)
			}
			if sub.PayloadHash != canonicalHash(t, c.body) {
				t.Errorf("payload hash = %s", sub.PayloadHash)
			}
			if msgs[0].Public {
				t.Error("an SMS is not public")
			}
			c.check(t, sub)
		})
	}
}

func TestSMSWebhookAnswers(t *testing.T) {
	const xmlHead = `<?xml version="1.0" encoding="UTF-8"?>`
	cases := []struct {
		name     string
		reply    string
		settings map[string]any
		want     string
	}{
		{"reply", "您的诉求已受理，工单编号WH2026112700042，查询码482913。", nil,
			xmlHead + "<Response><Message>您的诉求已受理，工单编号WH2026112700042，查询码482913。</Message></Response>"},
		{"escaped", `回复"查询 <编号>" & 查询码`, nil,
			xmlHead + "<Response><Message>回复&quot;查询 &lt;编号&gt;&quot; &amp; 查询码</Message></Response>"},
		{"nothing to say", "", nil, xmlHead + "<Response/>"},
		{"replies off", "已受理", map[string]any{"reply": false}, xmlHead + "<Response/>"},
		{"replies off from env", "已受理", map[string]any{"reply": "false"}, xmlHead + "<Response/>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rcv := &fakeReceiver{reply: app.Reply{Text: c.reply, Outcome: app.OutcomeCreated}}
			e, _ := newServer(t, setup{receiver: rcv, settings: c.settings})
			rec := post(e, smsPath, bodyPlain, signBody(t, testToken, publicBase+smsPath, bodyPlain))
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/xml") {
				t.Errorf("content type %q", ct)
			}
			if rec.Body.String() != c.want {
				t.Errorf("body\n got %s\nwant %s", rec.Body, c.want)
			}
			if len(rcv.received()) != 1 {
				t.Error("the message was not passed on")
			}
		})
	}
}

// Everything the adapter refuses: the right status, and nothing reaches the receiver.
func TestSMSWebhookRefuses(t *testing.T) {
	good := signBody(t, testToken, publicBase+smsPath, bodyPlain)
	signed := func(body string) (string, string) { return body, signBody(t, testToken, publicBase+smsPath, body) }
	replace := func(old, new string) (string, string) { return signed(strings.Replace(bodyPlain, old, new, 1)) }
	cases := []struct {
		name   string
		body   func() (string, string)
		mods   []func(*http.Request)
		status int
		reason string
	}{
		{"no signature", func() (string, string) { return bodyPlain, "" }, nil, 403, "missing X-Twilio-Signature"},
		{"wrong signature", func() (string, string) { return bodyPlain, "Smm+nv5Ak2fiye+xrGzPysxbCxs=" }, nil, 403, "does not match"},
		{"signed with another token", func() (string, string) {
			return bodyPlain, signBody(t, "00000000000000000000000000000000", publicBase+smsPath, bodyPlain)
		}, nil, 403, "does not match"},
		{"signed for another channel", func() (string, string) {
			return bodyPlain, signBody(t, testToken, publicBase+"/hooks/twilio/sms-other/sms", bodyPlain)
		}, nil, 403, "does not match"},
		{"signed for another host", func() (string, string) {
			return bodyPlain, signBody(t, testToken, "https://evil.example"+smsPath, bodyPlain)
		}, nil, 403, "does not match"},
		{"signed for the status route", func() (string, string) {
			return bodyPlain, signBody(t, testToken, publicBase+"/hooks/twilio/sms-main/status", bodyPlain)
		}, nil, 403, "does not match"},
		{"body changed after signing", func() (string, string) {
			return strings.Replace(bodyPlain, "From=%2B8613800001234", "From=%2B8613911112222", 1), good
		}, nil, 403, "does not match"},
		{"parameter added after signing", func() (string, string) { return bodyPlain + "&Extra=1", good }, nil, 403, "does not match"},
		{"missing From", func() (string, string) { return replace("&From=%2B8613800001234", "") }, nil, 400, "From is required"},
		{"empty From", func() (string, string) { return replace("From=%2B8613800001234", "From=") }, nil, 400, "From is required"},
		{"missing MessageSid", func() (string, string) { return replace("&MessageSid=SM9a8b7c6d5e4f30211203f4e5d6c7b8a9", "") }, nil, 400, "MessageSid is required"},
		{"MessageSid not an id", func() (string, string) { return replace("&MessageSid=SM9a8b", "&MessageSid=SM%2F..%2F9a8b") }, nil, 400, "not a Twilio identifier"},
		{"repeated From", func() (string, string) { return signed(bodyPlain + "&From=%2B8613911112222") }, nil, 400, "From is repeated"},
		{"NumMedia above the URLs", func() (string, string) {
			return signed(strings.Replace(bodyMMS, "NumMedia=2", "NumMedia=3", 1))
		}, nil, 400, "MediaUrl2 is missing"},
		{"NumMedia below the URLs", func() (string, string) {
			return signed(strings.Replace(bodyMMS, "NumMedia=2", "NumMedia=1", 1))
		}, nil, 400, "disagrees with NumMedia=1"},
		{"media without NumMedia", func() (string, string) {
			return signed(strings.Replace(bodyMMS, "NumMedia=2&", "", 1))
		}, nil, 400, "disagrees with NumMedia=0"},
		{"NumMedia not a number", func() (string, string) { return replace("NumMedia=0", "NumMedia=zero") }, nil, 400, "NumMedia"},
		{"NumMedia negative", func() (string, string) { return replace("NumMedia=0", "NumMedia=-1") }, nil, 400, "NumMedia"},
		{"NumMedia above ten", func() (string, string) { return replace("NumMedia=0", "NumMedia=11") }, nil, 400, "NumMedia"},
		{"media index with leading zero", func() (string, string) {
			return signed(strings.Replace(bodyMMS, "MediaUrl1=", "MediaUrl01=", 1))
		}, nil, 400, "MediaUrl01"},
		{"media url not http", func() (string, string) {
			return signed(strings.Replace(bodyMMSNoText, "MediaUrl0=https%3A%2F%2F", "MediaUrl0=file%3A%2F%2F", 1))
		}, nil, 400, "not an absolute http(s) URL"},
		{"invalid UTF-8 in Body", func() (string, string) { return replace("Body=%E5%B0%8F", "Body=%FF%FE") }, nil, 400, "not valid UTF-8"},
		{"invalid UTF-8 in a name", func() (string, string) { return signed(bodyPlain + "&%C3%28=1") }, nil, 400, "not valid UTF-8"},
		{"broken form encoding", func() (string, string) { return bodyPlain + "&Body=%zz", good }, nil, 400, "form encoding"},
		{"declared length over the limit", func() (string, string) { return signed(bodyPlain + "&Pad=" + strings.Repeat("x", 70000)) }, nil, 413, "exceeds"},
		{"streamed body over the limit", func() (string, string) { return signed(bodyPlain + "&Pad=" + strings.Repeat("x", 70000)) },
			[]func(*http.Request){func(r *http.Request) { r.ContentLength = -1 }}, 413, "exceeds"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, rcv := newServer(t, setup{})
			body, sig := c.body()
			rec := post(e, smsPath, body, sig, c.mods...)
			if rec.Code != c.status {
				t.Fatalf("status %d (%s), want %d", rec.Code, rec.Body, c.status)
			}
			if !strings.Contains(rec.Body.String(), c.reason) {
				t.Errorf("body %q lacks %q", rec.Body, c.reason)
			}
			if strings.Contains(rec.Header().Get("Content-Type"), "json") {
				t.Errorf("a webhook never answers JSON: %s", rec.Header().Get("Content-Type"))
			}
			if n := len(rcv.received()); n != 0 {
				t.Errorf("receiver got %d messages", n)
			}
		})
	}
}

func TestSMSBodyLimitSetting(t *testing.T) {
	e, rcv := newServer(t, setup{settings: map[string]any{"max_body_bytes": 1024}})
	body := bodyPlain + "&Pad=" + strings.Repeat("x", 1024-len(bodyPlain)-5)
	if len(body) != 1024 {
		t.Fatalf("body is %d bytes", len(body))
	}
	if rec := post(e, smsPath, body, signBody(t, testToken, publicBase+smsPath, body)); rec.Code != 200 {
		t.Fatalf("body at the limit: status %d %s", rec.Code, rec.Body)
	}
	body += "x"
	if rec := post(e, smsPath, body, signBody(t, testToken, publicBase+smsPath, body)); rec.Code != 413 {
		t.Fatalf("body one byte over: status %d", rec.Code)
	}
	if len(rcv.received()) != 1 {
		t.Errorf("receiver got %d messages", len(rcv.received()))
	}
}

func TestSMSReceiverErrors(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
	}{
		{"store down", fmt.Errorf("store case: %w", intake.ErrUnavailable), 503},
		{"deadline", context.DeadlineExceeded, 503},
		{"unknown failure", errors.New("boom"), 500},
		{"validation", intake.Invalid("text", "is required and must not be blank"), 400},
		{"conflict", &intake.ConflictError{Existing: &intake.Case{ExternalID: "SM1", CaseNo: "WH1"}}, 409},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, _ := newServer(t, setup{receiver: &fakeReceiver{err: c.err}})
			rec := post(e, smsPath, bodyPlain, signBody(t, testToken, publicBase+smsPath, bodyPlain))
			if rec.Code != c.status {
				t.Fatalf("status %d, want %d", rec.Code, c.status)
			}
			if strings.Contains(rec.Body.String(), "<Message>") {
				t.Error("an error answer must not carry a message")
			}
		})
	}
}

// A Receiver that hangs is cut off at receive_timeout and Twilio gets a 503 in time to use its
// fallback URL.
func TestSMSReceiverDeadline(t *testing.T) {
	rcv := &fakeReceiver{fn: func(ctx context.Context, _ app.Message) (app.Reply, error) {
		dl, ok := ctx.Deadline()
		if !ok || time.Until(dl) > 200*time.Millisecond {
			return app.Reply{}, errors.New("no deadline from receive_timeout")
		}
		<-ctx.Done()
		return app.Reply{}, ctx.Err()
	}}
	e, _ := newServer(t, setup{receiver: rcv, settings: map[string]any{"receive_timeout": "100ms"}})
	start := time.Now()
	rec := post(e, smsPath, bodyPlain, signBody(t, testToken, publicBase+smsPath, bodyPlain))
	if rec.Code != 503 {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestSMSDefaultDeadline(t *testing.T) {
	var got time.Duration
	rcv := &fakeReceiver{fn: func(ctx context.Context, _ app.Message) (app.Reply, error) {
		dl, _ := ctx.Deadline()
		got = time.Until(dl)
		return app.Reply{}, nil
	}}
	e, _ := newServer(t, setup{receiver: rcv})
	post(e, smsPath, bodyPlain, signBody(t, testToken, publicBase+smsPath, bodyPlain))
	if got <= 9*time.Second || got > 10*time.Second {
		t.Errorf("receiver deadline %s away, want 10s", got)
	}
}

// A retried delivery carries the same external id and payload hash, so the core recognises it;
// a reordered but identical form is the same payload.
func TestSMSRetryIsRecognisable(t *testing.T) {
	e, rcv := newServer(t, setup{})
	sig := signBody(t, testToken, publicBase+smsPath, bodyPlain)
	post(e, smsPath, bodyPlain, sig)
	post(e, smsPath, bodyPlain, sig)
	p, _ := url.ParseQuery(bodyPlain)
	reordered := p.Encode()
	post(e, smsPath, reordered, signBody(t, testToken, publicBase+smsPath, reordered))
	msgs := rcv.received()
	if len(msgs) != 3 {
		t.Fatalf("%d messages", len(msgs))
	}
	for _, m := range msgs[1:] {
		if m.Submission.ExternalID != msgs[0].Submission.ExternalID || m.Submission.PayloadHash != msgs[0].Submission.PayloadHash {
			t.Errorf("retry differs: %s/%s vs %s/%s", m.Submission.ExternalID, m.Submission.PayloadHash,
				msgs[0].Submission.ExternalID, msgs[0].Submission.PayloadHash)
		}
	}
	changed := strings.Replace(bodyPlain, "Body=%E5%B0%8F", "Body=%E5%A4%A7", 1)
	post(e, smsPath, changed, signBody(t, testToken, publicBase+smsPath, changed))
	if last := rcv.received()[3].Submission; last.PayloadHash == msgs[0].Submission.PayloadHash {
		t.Error("a different body has the same payload hash")
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	rcv := &fakeReceiver{}
	cases := []struct {
		name string
		cfg  func(*setup)
	}{
		{"bad public_base_url", func(s *setup) { s.settings = map[string]any{"public_base_url": "hotline.example.gov.cn"} }},
		{"public_base_url with query", func(s *setup) { s.settings = map[string]any{"public_base_url": "https://h.example/?a=1"} }},
		{"reply not a bool", func(s *setup) { s.settings = map[string]any{"reply": "maybe"} }},
		{"receive_timeout too long", func(s *setup) { s.settings = map[string]any{"receive_timeout": "20s"} }},
		{"receive_timeout not a duration", func(s *setup) { s.settings = map[string]any{"receive_timeout": 10} }},
		{"max_body_bytes tiny", func(s *setup) { s.settings = map[string]any{"max_body_bytes": 10} }},
		{"bad trusted proxy", func(s *setup) { s.server.TrustedProxies = []string{"not-a-cidr"} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := setup{receiver: rcv}
			c.cfg(&s)
			_, err := twilio.New(channelConfig(s.settings), depsFor(s))
			if err == nil {
				t.Fatal("accepted")
			}
		})
	}
	if _, err := twilio.New(channelConfig(nil), depsFor(setup{})); err == nil {
		t.Error("accepted a missing receiver")
	}
	cfg := channelConfig(nil)
	cfg.AuthToken = ""
	if _, err := twilio.New(cfg, depsFor(setup{receiver: rcv})); err == nil {
		t.Error("accepted a missing auth token")
	}
	// Keys of the shared conversation layer are not the adapter's business.
	if _, err := twilio.New(channelConfig(map[string]any{"opt_out_words": []any{"TD"}}), depsFor(setup{receiver: rcv})); err != nil {
		t.Errorf("refused an unrelated key: %v", err)
	}
}

func TestTwoChannelsShareTheMetricsRegistry(t *testing.T) {
	reg := depsFor(setup{receiver: &fakeReceiver{}})
	for _, id := range []string{"sms-a", "sms-b"} {
		cfg := channelConfig(nil)
		cfg.ID = id
		if _, err := twilio.New(cfg, reg); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
}
