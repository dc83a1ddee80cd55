package normalize

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
)

func TestCleanText(t *testing.T) {
	for in, want := range map[string]string{
		"  路灯坏了\r\n请修理\u3000 ": "路灯坏了\n请修理",
		"零\u200b宽\u200e字符":     "零宽字符",
		"控制\x00字符\x07":         "控制字符",
		"e\u0301":              "é", // NFC
		"坏\xffUTF-8":           "坏\uFFFDUTF-8",
		"👨\u200d👩\u200d👧 家庭 emoji 保留 ZWJ": "👨\u200d👩\u200d👧 家庭 emoji 保留 ZWJ",
	} {
		if got := CleanText(in); got != want {
			t.Errorf("CleanText(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"", "路灯", "\r\n\t", "\xff\xfe", "ａｂｃ１２３", "e\u0301", "A\x1b\u0301", " \u0301", "A\u200b\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := CleanText(s)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
		if CleanText(got) != got {
			t.Fatalf("not idempotent on %q", s)
		}
		if strings.ContainsAny(got, "\r\x00") {
			t.Fatalf("control characters left in %q", got)
		}
	})
}

func TestPhoneNumbers(t *testing.T) {
	for in, want := range map[string]Phone{
		"13800138000":       {E164: "+8613800138000", Raw: "13800138000", Valid: true},
		"+86 138 0013 8000": {E164: "+8613800138000", Raw: "+86 138 0013 8000", Valid: true},
		"１３８００１３８０００":       {E164: "+8613800138000", Raw: "１３８００１３８０００", Valid: true},
		"010-6552 9988":     {E164: "+861065529988", Raw: "010-6552 9988", Valid: true},
		"+1 415 555 2671":   {E164: "+14155552671", Raw: "+1 415 555 2671", Valid: true},
		"12345":             {Raw: "12345"},
		"not a number":      {Raw: "not a number"},
		"":                  {},
	} {
		if got := PhoneNumber(in, ""); got != want {
			t.Errorf("PhoneNumber(%q) = %+v, want %+v", in, got, want)
		}
	}
}

func TestBuild(t *testing.T) {
	received := time.Date(2026, 11, 27, 9, 30, 0, 123456789, time.FixedZone("CST", 8*3600))
	lat, lng := 37.5, 122.1
	sub := intake.Submission{
		Channel: intake.ChannelSMS, ChannelID: "sms-main", ExternalID: "SM1",
		Citizen:  intake.CitizenInput{Name: " 李女士 ", Phone: "138-0013-8000"},
		Text:     "  路灯坏了\r\n",
		Location: &intake.Location{Lat: &lat, Lng: &lng},
		Metadata: map[string]string{"FromCity": "WEIHAI"},
	}
	c := Build(sub, received, Options{})
	if c.Content.Text != "路灯坏了" || c.Content.OriginalText != sub.Text {
		t.Fatalf("content %+v", c.Content)
	}
	if c.Citizen.Phone != "+8613800138000" || c.Citizen.Name != "李女士" || c.Citizen.PhoneInvalid {
		t.Fatalf("citizen %+v", c.Citizen)
	}
	if !c.ReceivedAt.Equal(received.Truncate(time.Microsecond)) || c.ReceivedAt.Location() != time.UTC || !c.OccurredAt.Equal(c.ReceivedAt) {
		t.Fatalf("times %v %v", c.ReceivedAt, c.OccurredAt)
	}
	if c.Location.Source != intake.LocationGPS || c.Status != intake.StatusReceived || len(c.StatusHistory) != 1 || c.Priority != intake.PriorityNormal {
		t.Fatalf("case %+v", c)
	}
	if c.Classification.Category != "other" || c.Classification.Source != "auto" {
		t.Fatalf("classification %+v", c.Classification)
	}
	sub.Metadata["FromCity"] = "changed"
	if c.Metadata["FromCity"] != "WEIHAI" {
		t.Fatal("the case shares the submission's metadata map")
	}

	bad := Build(intake.Submission{Citizen: intake.CitizenInput{Phone: "12345"}, Text: "x"}, received, Options{})
	if bad.Citizen.Phone != "" || bad.Citizen.PhoneRaw != "12345" || !bad.Citizen.PhoneInvalid {
		t.Fatalf("an invalid phone must be kept and flagged: %+v", bad.Citizen)
	}

	op := Build(intake.Submission{Text: "x", OperatorCategory: "transport", OperatorRequestType: intake.RequestComplaint}, received, Options{})
	if op.Classification.Category != "transport" || op.Classification.RequestType != intake.RequestComplaint ||
		op.Classification.Source != "operator" || op.Classification.AutoCategory == "" {
		t.Fatalf("operator classification %+v", op.Classification)
	}
}

func TestBuildPhoneCallUsesCallerTurns(t *testing.T) {
	sub := intake.Submission{Transcript: []intake.Segment{
		{Speaker: intake.SpeakerAgent, Text: "您好，12345热线，请讲。"},
		{Speaker: intake.SpeakerCaller, Text: "我要反映小区停水。"},
		{Speaker: intake.SpeakerAgent, Text: "请问地址？"},
		{Speaker: intake.SpeakerCaller, Text: "文化路12号。"},
	}}
	c := Build(sub, time.Now(), Options{})
	if c.Content.Text != "我要反映小区停水。\n文化路12号。" {
		t.Fatalf("text %q", c.Content.Text)
	}
}

// TestBuildCleansEveryFreeTextField: control characters other than newline and tab are stripped
// from every free-text field a surface can fill, not only from the text: a name, an address, an
// attachment's title or transcription, a transcript turn and metadata reach operators' screens
// and the case system alike. The original text alone is kept exactly as it arrived.
func TestBuildCleansEveryFreeTextField(t *testing.T) {
	const dirty = "\x1b[31m路灯\x00坏了\u200b\x07"
	const clean = "[31m路灯坏了"
	sub := intake.Submission{
		Channel: intake.ChannelREST, ChannelID: "rest:crm", ExternalID: "k1",
		Citizen:     intake.CitizenInput{Name: dirty},
		Text:        "第一行\n\t第二行" + dirty,
		Location:    &intake.Location{Address: dirty, District: dirty},
		Attachments: []intake.Attachment{{Kind: intake.AttachmentAudio, URL: "https://a.example/1", Title: dirty, Transcription: dirty, ContentType: "audio/wav\r\nX-Injected: 1"}},
		Transcript:  []intake.Segment{{Speaker: intake.SpeakerCaller, EndMS: 1, Text: dirty}},
		Metadata:    map[string]string{"k": dirty},
	}
	c := Build(sub, time.Now(), Options{})
	for name, got := range map[string]string{
		"citizen.name": c.Citizen.Name, "location.address": c.Location.Address, "location.district": c.Location.District,
		"attachments[0].title": c.Attachments[0].Title, "attachments[0].transcription": c.Attachments[0].Transcription,
		"content.transcript[0].text": c.Content.Transcript[0].Text, "metadata.k": c.Metadata["k"],
	} {
		if got != clean {
			t.Errorf("%s = %q, want %q", name, got, clean)
		}
	}
	if c.Content.Text != "第一行\n\t第二行"+clean {
		t.Errorf("text %q: newline and tab are kept, the rest stripped", c.Content.Text)
	}
	if ct := c.Attachments[0].ContentType; ct != "audio/wav X-Injected: 1" {
		t.Errorf("content type %q: a media type is one line", ct)
	}
	// The original text is kept as sent, but for NUL, which PostgreSQL's JSON functions refuse.
	if want := strings.ReplaceAll(sub.Text, "\x00", "\uFFFD"); c.Content.OriginalText != want || strings.Contains(c.Content.OriginalText, "\x00") {
		t.Errorf("original text %q, want %q", c.Content.OriginalText, want)
	}
	if sub.Attachments[0].Title != dirty || sub.Transcript[0].Text != dirty {
		t.Error("Build changed the submission's own slices")
	}
}
