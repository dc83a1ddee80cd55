package normalize

import (
	"strings"
	"testing"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
)

func TestParseTranscript(t *testing.T) {
	type seg struct {
		who  intake.Speaker
		text string
	}
	tests := []struct {
		name string
		in   string
		ok   bool
		want []seg
	}{
		{"dev corpus style", "坐席：您好，12345政务服务热线，请讲。\n市民：我要投诉。\n坐席：您请说。\n市民：医生态度差。", true,
			[]seg{{"agent", "您好，12345政务服务热线，请讲。"}, {"caller", "我要投诉。"}, {"agent", "您请说。"}, {"caller", "医生态度差。"}}},
		{"half-width colons, CRLF, blank lines", "坐席:您好\r\n\r\n市民:停水了\r\n", true,
			[]seg{{"agent", "您好"}, {"caller", "停水了"}}},
		{"qualified labels", "坐席（工号1024）：您好\n来电人(张先生)：路灯坏了\n客服2：好的", true,
			[]seg{{"agent", "您好"}, {"caller", "路灯坏了"}, {"agent", "好的"}}},
		{"traditional labels", "坐席：您好\n市民：電梯壞了", true, []seg{{"agent", "您好"}, {"caller", "電梯壞了"}}},
		{"english labels", "Agent: hello\nCaller: the lift is broken", true,
			[]seg{{"agent", "hello"}, {"caller", "the lift is broken"}}},
		{"unlabelled line continues the turn", "市民：我家楼下\n天天有人摆摊\n坐席：好的", true,
			[]seg{{"caller", "我家楼下\n天天有人摆摊"}, {"agent", "好的"}}},
		{"one line: turns after sentence ends", "坐席：您好，12345。市民：我爸倒在地上叫不醒！坐席：地址？市民：幸福路18号。", true,
			[]seg{{"agent", "您好，12345。"}, {"caller", "我爸倒在地上叫不醒！"}, {"agent", "地址？"}, {"caller", "幸福路18号。"}}},
		{"one line: turns after spaces, qualified labels", "坐席(工号7)：您好 来电人（李）：停水了 坐席:好的", true,
			[]seg{{"agent", "您好"}, {"caller", "停水了"}, {"agent", "好的"}}},
		{"label inside a sentence does not cut", "坐席：我们会告诉市民：明天停水。市民：好", true,
			[]seg{{"agent", "我们会告诉市民：明天停水。"}, {"caller", "好"}}},
		{"unknown label after a sentence end does not cut", "市民：我问了。物业：不归我们管。", true,
			[]seg{{"caller", "我问了。物业：不归我们管。"}}},
		{"one line not starting with a label is not a transcript", "你好。市民：停水了", false, nil},
		{"several lines: a quoted label inside a line does not cut", "市民：我打了120。接线员：让我等着。我爸现在已经不动了\n坐席：好的，马上处理", true,
			[]seg{{"caller", "我打了120。接线员：让我等着。我爸现在已经不动了"}, {"agent", "好的，马上处理"}}},
		{"one line: a label after a closing quote", "坐席：您说\"好的\"市民：嗯，好的", true,
			[]seg{{"agent", "您说\"好的\""}, {"caller", "嗯，好的"}}},
		{"one line: a label at the very end", "坐席：您好。市民：", true,
			[]seg{{"agent", "您好。"}, {"caller", ""}}},
		{"REST summary is not a transcript", "市民来电反映：其家楼下路灯不亮。诉求：要求维修。", false, nil},
		{"label later in the text does not make a transcript", "你好\n市民：停水了", false, nil},
		{"colon inside a sentence", "地址：高区观澜路102号", false, nil},
		{"plain text", "建议今年供暖提前", false, nil},
		{"empty", "", false, nil},
	}
	for _, tt := range tests {
		segs, ok := ParseTranscript(tt.in)
		if ok != tt.ok {
			t.Errorf("%s: ok = %v, want %v", tt.name, ok, tt.ok)
			continue
		}
		if len(segs) != len(tt.want) {
			t.Errorf("%s: %d segments %+v, want %d", tt.name, len(segs), segs, len(tt.want))
			continue
		}
		for i, s := range segs {
			if s.Speaker != tt.want[i].who || s.Text != tt.want[i].text {
				t.Errorf("%s: segment %d = %s %q, want %s %q", tt.name, i, s.Speaker, s.Text, tt.want[i].who, tt.want[i].text)
			}
		}
	}
}

func TestClassifiableText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"坐席：您好，12345政务服务热线，请讲。\n市民：你好，我想问一下公积金提取的事。\n坐席：您请说。\n市民：能取几次？",
			"你好，我想问一下公积金提取的事。\n能取几次？"},
		{"坐席：您好，请讲。\n坐席：喂？", ""}, // only the agent spoke
		{"坐席：您好，12345。市民：燃气漏了。坐席：请离开房间。市民：好的", "燃气漏了。\n好的"},
		{"建议今年供暖提前", "建议今年供暖提前"},
	}
	for _, tt := range tests {
		if got := ClassifiableText(tt.in); got != tt.want {
			t.Errorf("ClassifiableText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzParseTranscript(f *testing.F) {
	for _, s := range []string{
		"坐席：您好\n市民：停水了", "市民:a\n\nb\r\n坐席（1）:c", "坐席：好。市民：x 坐席:y", "市民：。。。坐席",
		"\xe6  市民:", // a label that folds whole but is cut by a space inside it: once a panic "：：\n:", "市民：", "坐席\n市民：x", "\xff市民：\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		segs, ok := ParseTranscript(s)
		if ok != (len(segs) > 0) {
			t.Fatalf("ok=%v with %d segments", ok, len(segs))
		}
		for _, seg := range segs {
			if seg.Speaker != intake.SpeakerAgent && seg.Speaker != intake.SpeakerCaller {
				t.Fatalf("speaker %q", seg.Speaker)
			}
			if !utf8.ValidString(seg.Text) {
				t.Fatalf("invalid UTF-8 segment %q", seg.Text)
			}
		}
		for line := range strings.Lines(s) {
			if got := strings.Join(splitTurns(line), ""); got != line {
				t.Fatalf("splitTurns(%q) joins to %q", line, got)
			}
		}
		ct := ClassifiableText(s)
		if !ok && ct != s {
			t.Fatalf("non-transcript changed: %q → %q", s, ct)
		}
		if ok {
			// Every caller line is in the classifiable text and no agent-only line is.
			for _, seg := range segs {
				if seg.Speaker == intake.SpeakerCaller && seg.Text != "" && !strings.Contains(ct, CleanText(seg.Text)) {
					t.Fatalf("caller turn %q missing from %q", seg.Text, ct)
				}
			}
		}
	})
}

// BenchmarkClassifiableText is the transcript check every submission pays: a plain message, a
// one-line call, and 10,000 spaces (each a possible turn boundary), which must cost time linear
// in the text's length, not quadratic.
func BenchmarkClassifiableText(b *testing.B) {
	for name, text := range map[string]string{
		"message":     "小区门口的路灯坏了一个星期了，晚上走路很黑，希望尽快修一下",
		"one-line":    strings.Repeat("坐席：您好，请讲。市民：小区门口的路灯坏了一个星期了。", 3),
		"10k-spaces":  "市民：a" + strings.Repeat("\u3000", 10000) + "b",
		"10k-spaces2": "a" + strings.Repeat(" ", 10000) + "b",
	} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				_ = ClassifiableText(text)
			}
		})
	}
}
