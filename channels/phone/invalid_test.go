package phone_test

import (
	"runtime"
	"strings"
	"testing"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/channels/phone"
)

func TestParseJSONRefuses(t *testing.T) {
	seg := func(s string) string {
		return `{"call_id":"c1","caller_number":"13800138000","started_at":"2026-11-27T09:30:00+08:00","segments":[` + s + `]}`
	}
	ok := `{"speaker":"caller","start_ms":0,"end_ms":1000,"text":"路灯坏了","confidence":0.9}`
	cases := []struct {
		name, body, field, reason string
	}{
		{"empty", ``, "body", "is empty"},
		{"not JSON", `{"call_id":`, "body", "ends too early"},
		{"trailing data", seg(ok) + `{}`, "body", "unexpected data"},
		{"unknown field", strings.Replace(seg(ok), `"call_id"`, `"callid":"x","call_id"`, 1), "callid", "unknown field"},
		{"wrong type", strings.Replace(seg(ok), `"start_ms":0`, `"start_ms":"0"`, 1), "segments[0].start_ms", "wrong type"},
		{"invalid UTF-8", "{\"call_id\":\"c\xff\"}", "body", "not valid UTF-8"},
		{"no call id", strings.Replace(seg(ok), `"call_id":"c1"`, `"call_id":" "`, 1), "call_id", "is required"},
		{"call id with spaces", strings.Replace(seg(ok), `"call_id":"c1"`, `"call_id":"c 1"`, 1), "call_id", "printable ASCII"},
		{"no caller number", strings.Replace(seg(ok), `"caller_number":"13800138000"`, `"caller_number":""`, 1), "caller_number", "is required"},
		{"no start time", strings.Replace(seg(ok), `"started_at":"2026-11-27T09:30:00+08:00"`, `"started_at":""`, 1), "started_at", "is required"},
		{"start without zone", strings.Replace(seg(ok), `09:30:00+08:00`, `09:30:00`, 1), "started_at", "RFC 3339"},
		{"started before 2000", strings.Replace(seg(ok), `2026-11-27T09:30:00+08:00`, `1999-12-31T23:59:59+08:00`, 1), "started_at", intake.ReasonTimestampRange},
		{"end before start", strings.Replace(seg(ok), `"started_at"`, `"ended_at":"2026-11-27T09:29:00+08:00","started_at"`, 1), "ended_at", "before started_at"},
		{"call over four hours", strings.Replace(seg(ok), `"started_at"`, `"ended_at":"2026-11-27T13:30:01+08:00","started_at"`, 1), "ended_at", "longer than 4h0m0s"},
		{"bad request type", strings.Replace(seg(ok), `"started_at"`, `"request_type":"rant","started_at"`, 1), "request_type", "must be one of"},
		{"recording not http", strings.Replace(seg(ok), `"started_at"`, `"recording_url":"ftp://x/y.wav","started_at"`, 1), "recording_url", intake.ReasonURLScheme},
		{"recording without host", strings.Replace(seg(ok), `"started_at"`, `"recording_url":"https:///y.wav","started_at"`, 1), "recording_url", "http(s)"},
		{"no transcript", `{"call_id":"c1","caller_number":"1","started_at":"2026-11-27T09:30:00+08:00"}`, "segments", "exactly one of"},
		{"two transcripts", strings.Replace(seg(ok), `"segments"`, `"transcript_text":"市民：x","segments"`, 1), "segments", "exactly one of"},
		{"no segments", seg(``), "segments", "has no segments"},
		{"no caller turn", seg(`{"speaker":"agent","start_ms":0,"end_ms":1000,"text":"您好"}`), "segments", "no caller turn"},
		{"caller turn blank", seg(`{"speaker":"caller","start_ms":0,"end_ms":1000,"text":"  "}`), "segments", "no caller turn"},
		{"unknown speaker", seg(`{"speaker":"市民","start_ms":0,"end_ms":1000,"text":"x"}`), "segments[0].speaker", "unknown speaker label"},
		{"speaker missing", seg(`{"start_ms":0,"end_ms":1000,"text":"x"}`), "segments[0].speaker", "is required"},
		{"end_ms missing", seg(`{"speaker":"caller","start_ms":0,"text":"x"}`), "segments[0].end_ms", "is required"},
		{"end before start ms", seg(ok + `,{"speaker":"agent","start_ms":5000,"end_ms":4000,"text":"x"}`), "segments[1]", "ends before it starts"},
		{"negative start", seg(`{"speaker":"caller","start_ms":-5,"end_ms":1000,"text":"x"}`), "segments[0]", "start is negative"},
		{"overlap", seg(ok + `,{"speaker":"agent","start_ms":900,"end_ms":2000,"text":"x"}`), "segments[1]", "overlap"},
		{"out of order", seg(`{"speaker":"caller","start_ms":5000,"end_ms":6000,"text":"x"},{"speaker":"agent","start_ms":0,"end_ms":1000,"text":"y"}`), "segments[1]", "out of order"},
		{"absurd time", seg(`{"speaker":"caller","start_ms":0,"end_ms":14400001,"text":"x"}`), "segments[0]", "not a plausible call"},
		{"after the call ended", strings.Replace(seg(`{"speaker":"caller","start_ms":0,"end_ms":700000,"text":"x"}`), `"started_at"`,
			`"ended_at":"2026-11-27T09:40:00+08:00","started_at"`, 1), "segments[0]", "after the call ended"},
		{"confidence over one", seg(`{"speaker":"caller","start_ms":0,"end_ms":1000,"text":"x","confidence":1.5}`), "segments[0]", "outside 0..1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "wrong type" && strings.HasPrefix(runtime.Version(), "go1.26") {
				c.field = "segments.start_ms" // encoding/json names array elements only since Go 1.27
			}
			_, err := phone.ParseJSON([]byte(c.body), phone.Options{})
			assertInvalid(t, err, c.field, c.reason)
		})
	}
}

func TestParseTextRefuses(t *testing.T) {
	cases := []struct{ name, body, reason string }{
		{"unknown label", "坐席：您好\n主持人：大家好\n市民：路灯坏了", `line 2: unknown speaker label "主持人"`},
		{"no label", "坐席：您好\n路灯坏了", "line 2: does not begin with a speaker label"},
		{"label too far in", "坐席：您好\n我昨天晚上回家时看见：路灯坏了", "line 2: does not begin with a speaker label"},
		{"empty label", "：路灯坏了", "line 1: does not begin"},
		{"no caller turn", "坐席：您好\n客服：请讲", "no caller turn"},
		{"only blank lines", "\n \n\t\n", "has no segments"},
		{"invalid UTF-8", "市民：路灯\xff坏了", "not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := phone.ParseText(meta, []byte(c.body), phone.Options{})
			assertInvalid(t, err, "body", c.reason)
		})
	}
	// Metadata problems are reported with the transcript's.
	m := meta
	m.CallID, m.StartedAt = "", "yesterday"
	_, err := phone.ParseText(m, []byte("主持人：x"), phone.Options{})
	assertInvalid(t, err, "call_id", "is required")
	assertInvalid(t, err, "started_at", "RFC 3339")
	assertInvalid(t, err, "body", "unknown speaker label")
}

func TestParseWebVTTRefuses(t *testing.T) {
	cue := func(timing, payload string) string { return "WEBVTT\n\n" + timing + "\n" + payload + "\n" }
	cases := []struct{ name, body, reason string }{
		{"not WebVTT", "WEBVTTX\n\n00:01.000 --> 00:02.000\n<v 市民>x", "line 1: not WebVTT"},
		{"SRT", "1\n00:00:01,000 --> 00:00:02,000\n市民：x", "line 1: not WebVTT"},
		{"empty", "", "line 1: not WebVTT"},
		{"cue in the header", "WEBVTT\n00:01.000 --> 00:02.000\n<v 市民>x", "line 2: a cue must be separated"},
		{"comma decimal", cue("00:00:01,000 --> 00:00:02,000", "<v 市民>x"), "line 3: malformed cue timing"},
		{"minutes over 59", cue("00:61:00.000 --> 00:62:00.000", "<v 市民>x"), "malformed cue timing"},
		{"one-digit hour", cue("0:00:01.000 --> 0:00:02.000", "<v 市民>x"), "malformed cue timing"},
		{"no arrow end", cue("00:01.000 -->", "<v 市民>x"), "malformed cue timing"},
		{"identifier without timing", "WEBVTT\n\ncue-1\n<v 市民>x\n", "line 3: a cue needs a timing line"},
		{"no voice tag", cue("00:01.000 --> 00:02.000", "路灯坏了"), "line 4: the cue has no <v> speaker tag"},
		{"unknown voice", cue("00:01.000 --> 00:02.000", "<v 张三>路灯坏了"), `line 4: unknown speaker label "张三"`},
		{"empty voice", cue("00:01.000 --> 00:02.000", "<v>路灯坏了"), `unknown speaker label ""`},
		{"two voices", cue("00:01.000 --> 00:02.000", "<v 坐席>您好\n<v 市民>路灯坏了"), "line 5: a cue has one speaker"},
		{"unclosed tag", cue("00:01.000 --> 00:02.000", "<v 市民>路灯<i坏了"), "line 4: malformed tag"},
		{"end before start", cue("00:05.000 --> 00:02.000", "<v 市民>x"), "line 3: ends before it starts"},
		{"overlap", "WEBVTT\n\n00:01.000 --> 00:05.000\n<v 坐席>您好\n\n00:04.000 --> 00:06.000\n<v 市民>x\n", "line 6: starts at 4s, before the previous segment ends (5s)"},
		{"absurd", cue("05:00:00.000 --> 05:00:01.000", "<v 市民>x"), "not a plausible call"},
		{"no caller", cue("00:01.000 --> 00:02.000", "<v 坐席>您好"), "no caller turn"},
		{"invalid UTF-8", cue("00:01.000 --> 00:02.000", "<v 市民>\xc3\x28"), "not valid UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := phone.ParseWebVTT(meta, []byte(c.body), phone.Options{})
			assertInvalid(t, err, "body", c.reason)
		})
	}
}

// A transcript that is wrong everywhere gives a bounded list of errors, not hundreds.
func TestErrorListIsBounded(t *testing.T) {
	var b strings.Builder
	for range 300 {
		b.WriteString("主持人：x\n")
	}
	_, err := phone.ParseText(meta, []byte(b.String()), phone.Options{})
	assertInvalid(t, err, "errors", "more problems not listed")
}
