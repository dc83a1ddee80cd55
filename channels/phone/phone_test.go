package phone_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels/phone"
)

var meta = phone.Meta{
	CallID: "20261127093000-0001", CallerNumber: "13800138000", CalledLine: "12345",
	StartedAt: "2026-11-27T09:30:00+08:00", EndedAt: "2026-11-27T09:34:10+08:00", AgentID: "A0107",
	RecordingURL: "https://cc.example.gov.cn/rec/20261127093000-0001.wav",
}

const jsonCall = `{
  "call_id": "20261127093000-0001",
  "caller_number": "13800138000",
  "called_line": "12345",
  "started_at": "2026-11-27T09:30:00+08:00",
  "ended_at": "2026-11-27T09:34:10+08:00",
  "agent_id": "A0107",
  "recording_url": "https://cc.example.gov.cn/rec/20261127093000-0001.wav",
  "category": "urban.streetlight",
  "request_type": "complaint",
  "segments": [
    {"speaker": "agent", "start_ms": 0, "end_ms": 3200, "text": "您好，12345热线，请讲。", "confidence": 0.97},
    {"speaker": "caller", "start_ms": 3400, "end_ms": 9800, "text": "我们小区门口的路灯坏了一个星期了。", "confidence": 0.91},
    {"speaker": "agent", "start_ms": 9800, "end_ms": 12000, "text": "请问具体地址是？", "confidence": 0.95},
    {"speaker": "caller", "start_ms": 12500, "end_ms": 18000, "text": "环翠区文化中路88号。", "confidence": 0.42}
  ]
}`

const textCall = "\uFEFF坐席：您好，12345热线，请讲。\r\n" +
	"市民：我们小区门口的路灯坏了一个星期了。\r\n" +
	"\r\n" +
	"客服: 请问具体地址是？\r\n" +
	"  来电人 ：环翠区文化中路88号。\r\n"

const vttCall = "WEBVTT - call 20261127093000-0001\n" +
	"Kind: captions\n" +
	"\n" +
	"NOTE exported by the call-centre recorder\n" +
	"\n" +
	"1\n" +
	"00:00.000 --> 00:03.200 align:start\n" +
	"<v 坐席>您好，12345热线，请讲。</v>\n" +
	"\n" +
	"2\n" +
	"00:00:03.400 --> 00:00:09.800\n" +
	"<v.citizen 市民>我们小区门口的路灯\n" +
	"坏了一个星期了。\n" +
	"\n" +
	"00:00:09.800 --> 00:00:12.000\n" +
	"<v 坐席><i>请问</i>具体地址是？\n" +
	"\n" +
	"00:00:12.500 --> 00:00:18.000\n" +
	"<v 市民>环翠区文化中路88号&amp;旁边。\n"

func TestParseJSON(t *testing.T) {
	c, err := phone.ParseJSON([]byte(jsonCall), phone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if c.CallID != "20261127093000-0001" || c.CallerNumber != "13800138000" || c.CalledLine != "12345" || c.AgentID != "A0107" {
		t.Errorf("metadata %+v", c)
	}
	if !c.StartedAt.Equal(time.Date(2026, 11, 27, 1, 30, 0, 0, time.UTC)) || c.EndedAt.Sub(c.StartedAt) != 250*time.Second {
		t.Errorf("times %v %v", c.StartedAt, c.EndedAt)
	}
	if c.Category != "urban.streetlight" || c.RequestType != intake.RequestComplaint || c.Format != phone.FormatSegments {
		t.Errorf("category %q type %q format %q", c.Category, c.RequestType, c.Format)
	}
	want := []intake.Segment{
		{Speaker: "agent", StartMS: 0, EndMS: 3200, Text: "您好，12345热线，请讲。", Confidence: 0.97},
		{Speaker: "caller", StartMS: 3400, EndMS: 9800, Text: "我们小区门口的路灯坏了一个星期了。", Confidence: 0.91},
		{Speaker: "agent", StartMS: 9800, EndMS: 12000, Text: "请问具体地址是？", Confidence: 0.95},
		{Speaker: "caller", StartMS: 12500, EndMS: 18000, Text: "环翠区文化中路88号。", Confidence: 0.42, LowConfidence: true},
	}
	if fmt.Sprint(c.Segments) != fmt.Sprint(want) {
		t.Errorf("segments\n got %+v\nwant %+v", c.Segments, want)
	}
}

func TestConfidenceThreshold(t *testing.T) {
	c, err := phone.ParseJSON([]byte(jsonCall), phone.Options{LowConfidence: 0.95})
	if err != nil {
		t.Fatal(err)
	}
	var flags []bool
	for _, s := range c.Segments {
		flags = append(flags, s.LowConfidence)
	}
	if fmt.Sprint(flags) != "[false true false true]" {
		t.Errorf("flags at 0.95: %v", flags)
	}
	c, _ = phone.ParseJSON([]byte(jsonCall), phone.Options{LowConfidence: -1})
	for _, s := range c.Segments {
		if s.LowConfidence {
			t.Error("flagged with flagging off")
		}
	}
	noScore := strings.Replace(jsonCall, `, "confidence": 0.42`, "", 1)
	c, err = phone.ParseJSON([]byte(noScore), phone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Segments[3]; s.Confidence != 1 || s.LowConfidence {
		t.Errorf("segment without a score: %+v", s)
	}
}

func TestParseText(t *testing.T) {
	c, err := phone.ParseText(meta, []byte(textCall), phone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []intake.Segment{
		{Speaker: "agent", Text: "您好，12345热线，请讲。", Confidence: 1},
		{Speaker: "caller", Text: "我们小区门口的路灯坏了一个星期了。", Confidence: 1},
		{Speaker: "agent", Text: "请问具体地址是？", Confidence: 1},
		{Speaker: "caller", Text: "环翠区文化中路88号。", Confidence: 1},
	}
	if fmt.Sprint(c.Segments) != fmt.Sprint(want) || c.Format != phone.FormatText {
		t.Errorf("segments\n got %+v\nwant %+v", c.Segments, want)
	}
	if c.RecordingURL != meta.RecordingURL || c.CallID != meta.CallID {
		t.Errorf("metadata %+v", c)
	}
}

func TestParseWebVTT(t *testing.T) {
	c, err := phone.ParseWebVTT(meta, []byte(vttCall), phone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []intake.Segment{
		{Speaker: "agent", StartMS: 0, EndMS: 3200, Text: "您好，12345热线，请讲。", Confidence: 1},
		{Speaker: "caller", StartMS: 3400, EndMS: 9800, Text: "我们小区门口的路灯\n坏了一个星期了。", Confidence: 1},
		{Speaker: "agent", StartMS: 9800, EndMS: 12000, Text: "请问具体地址是？", Confidence: 1},
		{Speaker: "caller", StartMS: 12500, EndMS: 18000, Text: "环翠区文化中路88号&旁边。", Confidence: 1},
	}
	if fmt.Sprint(c.Segments) != fmt.Sprint(want) || c.Format != phone.FormatWebVTT {
		t.Errorf("segments\n got %+v\nwant %+v", c.Segments, want)
	}
	crlf := strings.ReplaceAll(vttCall, "\n", "\r\n")
	c2, err := phone.ParseWebVTT(meta, []byte(crlf), phone.Options{})
	if err != nil || fmt.Sprint(c2.Segments) != fmt.Sprint(want) {
		t.Errorf("CRLF: %v %+v", err, c2)
	}
}

// The JSON body may carry the transcript in the text or WebVTT form instead of segments.
func TestParseJSONEmbeddedForms(t *testing.T) {
	head := `{"call_id":"c1","caller_number":"13800138000","started_at":"2026-11-27T09:30:00+08:00",`
	c, err := phone.ParseJSON([]byte(head+`"transcript_text":"坐席：您好\n市民：路灯坏了"}`), phone.Options{})
	if err != nil || c.Format != phone.FormatText || len(c.Segments) != 2 || c.Segments[1].Text != "路灯坏了" {
		t.Fatalf("text: %v %+v", err, c)
	}
	c, err = phone.ParseJSON([]byte(head+`"transcript_vtt":"WEBVTT\n\n00:01.000 --> 00:02.000\n<v 市民>路灯坏了"}`), phone.Options{})
	if err != nil || c.Format != phone.FormatWebVTT || c.Segments[0].StartMS != 1000 {
		t.Fatalf("vtt: %v %+v", err, c)
	}
	_, err = phone.ParseJSON([]byte(head+`"transcript_text":"坐席：您好\n主持人：路灯坏了"}`), phone.Options{})
	assertInvalid(t, err, "transcript_text", `line 2: unknown speaker label "主持人"`)
}

// assertInvalid checks that err is a ValidationError with a field error on field whose reason
// contains reason.
func assertInvalid(t *testing.T, err error, field, reason string) {
	t.Helper()
	var ve *intake.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a validation error on %s (%s), got %v", field, reason, err)
	}
	if !errors.Is(err, intake.ErrInvalid) {
		t.Error("does not wrap ErrInvalid")
	}
	for _, f := range ve.Fields {
		if f.Field == field && strings.Contains(f.Reason, reason) {
			return
		}
	}
	t.Fatalf("no error on %s containing %q: %v", field, reason, ve.Fields)
}

func TestSubmission(t *testing.T) {
	c, err := phone.ParseJSON([]byte(jsonCall), phone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	raw := intake.RawPayload{ContentType: "application/json", Body: []byte(jsonCall)}
	sub := c.Submission("phone:callcentre", raw)
	if sub.Channel != intake.ChannelPhone || sub.ChannelID != "phone:callcentre" || sub.ExternalID != "20261127093000-0001" {
		t.Errorf("ids %s %s %s", sub.Channel, sub.ChannelID, sub.ExternalID)
	}
	if !sub.OccurredAt.Equal(c.StartedAt) || sub.Citizen.Phone != "13800138000" {
		t.Errorf("occurred %v phone %q", sub.OccurredAt, sub.Citizen.Phone)
	}
	if sub.Text != "" {
		t.Errorf("text %q: without a summary the core describes the case by the caller's turns", sub.Text)
	}
	if len(sub.Transcript) != 4 || sub.OperatorCategory != "urban.streetlight" || sub.OperatorRequestType != intake.RequestComplaint {
		t.Errorf("transcript/category: %+v", sub)
	}
	if len(sub.Attachments) != 1 || sub.Attachments[0].Kind != intake.AttachmentAudio || sub.Attachments[0].URL != c.RecordingURL {
		t.Errorf("attachments %+v", sub.Attachments)
	}
	wantMeta := map[string]string{"called_line": "12345", "agent_id": "A0107", "call_ended_at": "2026-11-27T09:34:10+08:00",
		"call_duration_s": "250", "transcript_format": "segments", "low_confidence_segments": "1"}
	if fmt.Sprint(sub.Metadata) != fmt.Sprint(wantMeta) {
		t.Errorf("metadata %v", sub.Metadata)
	}
	if string(sub.Raw.Body) != jsonCall || sub.PayloadHash != c.Hash() || len(sub.PayloadHash) != 64 {
		t.Errorf("raw/hash %q %q", sub.Raw.ContentType, sub.PayloadHash)
	}

	withSummary := strings.Replace(jsonCall, `"category"`, `"summary": "  市民反映环翠区文化中路88号路灯损坏。 ", "category"`, 1)
	c2, err := phone.ParseJSON([]byte(withSummary), phone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s := c2.Submission("phone:x", raw); s.Text != "市民反映环翠区文化中路88号路灯损坏。" {
		t.Errorf("summary text %q", s.Text)
	}
}

// The payload hash identifies content, not layout.
func TestHash(t *testing.T) {
	a, _ := phone.ParseJSON([]byte(jsonCall), phone.Options{})
	compact := strings.Join(strings.Fields(jsonCall), "")
	b, err := phone.ParseJSON([]byte(compact), phone.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Hash() != b.Hash() {
		t.Error("same call, different hash")
	}
	c, _ := phone.ParseJSON([]byte(strings.Replace(jsonCall, "88号", "86号", 1)), phone.Options{})
	if a.Hash() == c.Hash() {
		t.Error("different call, same hash")
	}
	// Another confidence threshold flags other segments, but the call is the same.
	d, _ := phone.ParseJSON([]byte(jsonCall), phone.Options{LowConfidence: 0.99})
	if a.Hash() != d.Hash() {
		t.Error("the low-confidence threshold changed the hash")
	}
}
