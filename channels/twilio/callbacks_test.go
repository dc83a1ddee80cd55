package twilio_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/internal/app"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels/twilio"
)

const (
	statusPath = "/hooks/twilio/sms-main/status"
	trPath     = "/hooks/twilio/sms-main/transcription"
)

// Status callbacks as Twilio posts them for an outbound message.
const (
	bodyDelivered   = "SmsSid=SM5555555555555555555555555555aa&SmsStatus=delivered&MessageStatus=delivered&To=%2B8613800001234&MessagingServiceSid=MG0123456789abcdef0123456789abcdef&MessageSid=SM5555555555555555555555555555aa&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B15005550006&ApiVersion=2010-04-01"
	bodyUndelivered = "ErrorCode=30003&SmsSid=SM5555555555555555555555555555bb&SmsStatus=undelivered&MessageStatus=undelivered&To=%2B8613800001234&MessageSid=SM5555555555555555555555555555bb&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B15005550006&ApiVersion=2010-04-01"
	bodyLegacy      = "SmsSid=SM5555555555555555555555555555cc&SmsStatus=sent&To=%2B8613800001234&AccountSid=AC0123456789abcdef0123456789abcdef&From=%2B15005550006&ApiVersion=2010-04-01"
)

func TestStatusCallback(t *testing.T) {
	cases := []struct {
		name   string
		body   string
		status int
		want   [4]string
	}{
		{"delivered", bodyDelivered, 204, [4]string{"sms-main", "SM5555555555555555555555555555aa", "delivered", ""}},
		{"undelivered with error code", bodyUndelivered, 204, [4]string{"sms-main", "SM5555555555555555555555555555bb", "undelivered", "30003"}},
		{"legacy field names", bodyLegacy, 204, [4]string{"sms-main", "SM5555555555555555555555555555cc", "sent", ""}},
		{"no status", strings.NewReplacer("&SmsStatus=delivered", "", "&MessageStatus=delivered", "").Replace(bodyDelivered), 400, [4]string{}},
		{"no sid", strings.NewReplacer("SmsSid=SM5555555555555555555555555555aa&", "", "&MessageSid=SM5555555555555555555555555555aa", "").Replace(bodyDelivered), 400, [4]string{}},
		{"status not a word", strings.Replace(bodyDelivered, "MessageStatus=delivered", "MessageStatus=%3Cscript%3E", 1), 400, [4]string{}},
		{"error code not a number", strings.Replace(bodyUndelivered, "ErrorCode=30003", "ErrorCode=x1", 1), 400, [4]string{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := &fakeRecorder{}
			e, rcv := newServer(t, setup{opts: []twilio.Option{twilio.WithStatusRecorder(rec)}})
			res := post(e, statusPath, c.body, signBody(t, testToken, publicBase+statusPath, c.body))
			if res.Code != c.status {
				t.Fatalf("status %d %s", res.Code, res.Body)
			}
			if c.status == 204 {
				if len(rec.got) != 1 || rec.got[0] != c.want {
					t.Errorf("recorded %v, want %v", rec.got, c.want)
				}
			} else if len(rec.got) != 0 {
				t.Errorf("recorded %v for a bad callback", rec.got)
			}
			if len(rcv.received()) != 0 {
				t.Error("a status callback is not a citizen message")
			}
		})
	}
}

func TestStatusCallbackRefusals(t *testing.T) {
	rec := &fakeRecorder{}
	e, _ := newServer(t, setup{opts: []twilio.Option{twilio.WithStatusRecorder(rec)}})
	if res := post(e, statusPath, bodyDelivered, ""); res.Code != 403 {
		t.Errorf("unsigned: %d", res.Code)
	}
	if res := post(e, statusPath, bodyDelivered, signBody(t, testToken, publicBase+smsPath, bodyDelivered)); res.Code != 403 {
		t.Errorf("signed for the sms route: %d", res.Code)
	}
	if len(rec.got) != 0 {
		t.Errorf("recorded %v", rec.got)
	}
	rec.fail = errors.New("store down")
	if res := post(e, statusPath, bodyDelivered, signBody(t, testToken, publicBase+statusPath, bodyDelivered)); res.Code != 503 {
		t.Errorf("recorder failure: %d", res.Code)
	}
}

func TestStatusCallbackDefaultRecorderAndSetter(t *testing.T) {
	e, _ := newServer(t, setup{})
	if res := post(e, statusPath, bodyDelivered, signBody(t, testToken, publicBase+statusPath, bodyDelivered)); res.Code != 204 {
		t.Fatalf("default recorder: %d", res.Code)
	}
	rec := &fakeRecorder{}
	cfg := channelConfig(nil)
	a, err := twilio.New(cfg, depsFor(setup{receiver: &fakeReceiver{}, server: serverWithBase()}))
	if err != nil {
		t.Fatal(err)
	}
	a.SetStatusRecorder(rec)
	e2 := newEcho(a)
	if res := post(e2, statusPath, bodyDelivered, signBody(t, testToken, publicBase+statusPath, bodyDelivered)); res.Code != 204 || len(rec.got) != 1 {
		t.Fatalf("setter: %d %v", res.Code, rec.got)
	}
}

// <Record transcribe> callbacks as Twilio posts them.
const (
	bodyTranscribed = "TranscriptionType=fast&TranscriptionUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC0123456789abcdef0123456789abcdef%2FRecordings%2FRE0123456789abcdef0123456789abcdef%2FTranscriptions%2FTR0123456789abcdef0123456789abcdef&TranscriptionSid=TR0123456789abcdef0123456789abcdef&Called=%2B15005550006&RecordingSid=RE0123456789abcdef0123456789abcdef&CallStatus=completed&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC0123456789abcdef0123456789abcdef%2FRecordings%2FRE0123456789abcdef0123456789abcdef&From=%2B8613800001234&Direction=inbound&url=https%3A%2F%2Fhotline.example.gov.cn%2Fhooks%2Ftwilio%2Fsms-main%2Ftranscription&AccountSid=AC0123456789abcdef0123456789abcdef&TranscriptionText=%E4%BD%A0%E5%A5%BD%EF%BC%8C%E6%88%91%E8%A6%81%E5%8F%8D%E6%98%A0%E8%B7%AF%E7%81%AF%E9%97%AE%E9%A2%98&Caller=%2B8613800001234&TranscriptionStatus=completed&CallSid=CA0123456789abcdef0123456789abcdef&To=%2B15005550006"
)

// A failed transcription: no TranscriptionText.
var bodyTranscriptionFailed = strings.NewReplacer("TranscriptionStatus=completed", "TranscriptionStatus=failed",
	"&TranscriptionText=%E4%BD%A0%E5%A5%BD%EF%BC%8C%E6%88%91%E8%A6%81%E5%8F%8D%E6%98%A0%E8%B7%AF%E7%81%AF%E9%97%AE%E9%A2%98", "").Replace(bodyTranscribed)

func TestTranscriptionCallback(t *testing.T) {
	failed := bodyTranscriptionFailed
	emptyText := strings.Replace(bodyTranscribed,
		"TranscriptionText=%E4%BD%A0%E5%A5%BD%EF%BC%8C%E6%88%91%E8%A6%81%E5%8F%8D%E6%98%A0%E8%B7%AF%E7%81%AF%E9%97%AE%E9%A2%98", "TranscriptionText=+", 1)
	noRecording := strings.Replace(failed, "&RecordingUrl=https%3A%2F%2Fapi.twilio.com%2F2010-04-01%2FAccounts%2FAC0123456789abcdef0123456789abcdef%2FRecordings%2FRE0123456789abcdef0123456789abcdef", "", 1)
	recURL := "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123456789abcdef0123456789abcdef"
	cases := []struct {
		name       string
		body       string
		text       string
		manual     bool
		attachment bool
	}{
		{"completed", bodyTranscribed, "你好，我要反映路灯问题", false, true},
		{"failed", failed, twilio.ManualTranscriptionText, true, true},
		{"completed but empty", emptyText, twilio.ManualTranscriptionText, true, true},
		{"failed without recording", noRecording, twilio.ManualTranscriptionText, true, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The receiver has something to say, but nobody is on the line any more.
			e, rcv := newServer(t, setup{receiver: &fakeReceiver{reply: app.Reply{Text: "已受理", Outcome: app.OutcomeCreated}}})
			res := post(e, trPath, c.body, signBody(t, testToken, publicBase+trPath, c.body))
			if res.Code != 200 || res.Body.String() != twilio.EmptyTwiML {
				t.Fatalf("status %d body %s", res.Code, res.Body)
			}
			sub := rcv.received()[0].Submission
			if sub.Channel != intake.ChannelPhone || sub.ChannelID != "sms-main" || sub.ExternalID != "CA0123456789abcdef0123456789abcdef" {
				t.Errorf("channel %s/%s external %s", sub.Channel, sub.ChannelID, sub.ExternalID)
			}
			if sub.Citizen.Phone != "+8613800001234" || sub.Text != c.text {
				t.Errorf("phone %q text %q", sub.Citizen.Phone, sub.Text)
			}
			if (sub.Metadata["needs_manual_transcription"] == "true") != c.manual {
				t.Errorf("metadata = %v", sub.Metadata)
			}
			if sub.Metadata["to"] != "+15005550006" {
				t.Errorf("called line missing: %v", sub.Metadata)
			}
			if !c.attachment {
				if len(sub.Attachments) != 0 {
					t.Errorf("attachments = %+v", sub.Attachments)
				}
				return
			}
			if len(sub.Attachments) != 1 {
				t.Fatalf("attachments = %+v", sub.Attachments)
			}
			a := sub.Attachments[0]
			if a.Kind != intake.AttachmentAudio || a.URL != recURL {
				t.Errorf("attachment = %+v", a)
			}
			if c.manual == (a.Transcription != "") {
				t.Errorf("attachment transcription %q", a.Transcription)
			}
		})
	}
}

func TestTranscriptionRefusals(t *testing.T) {
	cases := []struct {
		name, body, sig string
		status          int
	}{
		{"unsigned", bodyTranscribed, "", 403},
		{"signed for the sms route", bodyTranscribed, "sms", 403},
		{"no CallSid", strings.Replace(bodyTranscribed, "&CallSid=CA0123456789abcdef0123456789abcdef", "", 1), "", 400},
		{"no From", strings.Replace(bodyTranscribed, "&From=%2B8613800001234", "", 1), "", 400},
		{"recording not a URL", strings.Replace(bodyTranscribed, "RecordingUrl=https%3A%2F%2F", "RecordingUrl=javascript%3A", 1), "", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, rcv := newServer(t, setup{})
			var sig string
			switch c.sig {
			case "":
				if c.status != 403 {
					sig = signBody(t, testToken, publicBase+trPath, c.body)
				}
			case "sms":
				sig = signBody(t, testToken, publicBase+smsPath, c.body)
			}
			res := post(e, trPath, c.body, sig)
			if res.Code != c.status {
				t.Fatalf("status %d %s", res.Code, res.Body)
			}
			if len(rcv.received()) != 0 {
				t.Error("passed on")
			}
		})
	}
	e, _ := newServer(t, setup{receiver: &fakeReceiver{err: intake.ErrUnavailable}})
	if res := post(e, trPath, bodyTranscribed, signBody(t, testToken, publicBase+trPath, bodyTranscribed)); res.Code != http.StatusServiceUnavailable {
		t.Errorf("store down: %d", res.Code)
	}
}
