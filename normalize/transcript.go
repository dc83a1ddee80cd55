package normalize

import (
	"strings"
	"unicode"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
)

// Speaker labels of plain-text call transcripts, as operators and call-centre exports write
// them: "坐席：您好…" / "市民：我要投诉…". Compared after MatchText-style folding (so full-width
// colons, traditional characters and upper case are accepted).
var (
	agentLabels  = []string{"坐席", "客服", "话务员", "接线员", "工作人员", "受理员", "热线", "agent", "operator"}
	callerLabels = []string{"市民", "来电人", "来电者", "来电市民", "群众", "用户", "客户", "caller", "citizen", "customer"}
)

// ParseTranscript splits a plain-text transcript into turns. A turn starts with a line of the form
// "LABEL：text" (or "LABEL:", optionally "LABEL(…)" or "LABEL1"), where LABEL is one of the agent
// or caller labels above, or with such a label after a sentence end or a space inside a line
// (splitTurns); lines without a label continue the turn before them. ok is false, and
// no segments are returned, when the first non-blank line has no speaker label: the text is then
// not a transcript. Segment texts are cleaned with CleanText; times and confidence are zero
// because plain text carries none.
func ParseTranscript(text string) (segments []intake.Segment, ok bool) {
	for line := range strings.Lines(CleanText(text)) {
		for _, piece := range splitTurns(strings.TrimSpace(line)) {
			piece = strings.TrimSpace(piece)
			if piece == "" {
				continue
			}
			speaker, rest, labelled := splitSpeaker(piece)
			switch {
			case labelled:
				segments = append(segments, intake.Segment{Speaker: speaker, Text: rest})
			case len(segments) == 0:
				return nil, false
			default:
				last := &segments[len(segments)-1]
				if last.Text != "" {
					last.Text += "\n"
				}
				last.Text += piece
			}
		}
	}
	return segments, len(segments) > 0
}

// splitTurns cuts a line before every speaker label that follows a sentence end or a space:
// call-centre exports, speech-recognition output and forms that drop line breaks put a whole
// call on one line ("坐席：您好。市民：我爸倒在地上了。"), and the caller's words must not be
// read as the agent's. A label inside a sentence ("请告诉市民：…") does not cut.
func splitTurns(line string) []string {
	var parts []string
	start := 0
	for i, r := range line {
		if !turnBoundary(r) {
			continue
		}
		next := i + utf8.RuneLen(r)
		if next < len(line) && startsWithLabel(line[next:]) {
			parts = append(parts, line[start:next])
			start = next
		}
	}
	return append(parts, line[start:])
}

// turnBoundary reports runes after which a new speaker's turn may start on the same line.
func turnBoundary(r rune) bool {
	switch r {
	case '。', '！', '？', '!', '?', '；', ';', '…', '”', '」', ' ', '\t', '\u3000':
		return true
	}
	return false
}

// labelHeadBytes bounds the look-ahead for a label: 12 runes of at most 4 bytes and a colon.
const labelHeadBytes = 12*utf8.UTFMax + len("：")

// startsWithLabel reports whether s starts with "LABEL：" for a known speaker label. It looks
// at most labelHeadBytes ahead, so that splitting a long line stays linear in its length.
func startsWithLabel(s string) bool {
	s = strings.TrimLeft(s, " \t\u3000")
	head := s[:min(len(s), labelHeadBytes)]
	i := strings.IndexAny(head, ":：")
	if i <= 0 {
		return false
	}
	_, colon := utf8.DecodeRuneInString(s[i:])
	_, _, ok := splitSpeaker(s[:i+colon])
	return ok
}

// ClassifiableText is the part of a submission's text that classification looks at: for a
// plain-text call transcript the caller's turns, one per line (the agent's greeting and summary
// would otherwise decide the category); for anything else the text itself.
func ClassifiableText(text string) string {
	segs, ok := ParseTranscript(text)
	if !ok {
		return text
	}
	return CallerText(segs)
}

// splitSpeaker recognises "LABEL：rest". The label is matched on a folded copy of the line's head
// (at most 12 runes before the colon).
func splitSpeaker(line string) (intake.Speaker, string, bool) {
	i := strings.IndexAny(line, ":：")
	if i <= 0 {
		return "", "", false
	}
	head := line[:i]
	if utf8.RuneCountInString(head) > 12 {
		return "", "", false
	}
	_, colon := utf8.DecodeRuneInString(line[i:])
	rest := strings.TrimSpace(line[i+colon:])
	label := MatchText(head)
	// Drop a trailing qualifier: "坐席(工号1024)", "市民（张先生）", "坐席1".
	if j := strings.IndexAny(label, "(["); j > 0 {
		label = label[:j]
	}
	label = strings.TrimRightFunc(label, func(r rune) bool { return unicode.IsDigit(r) || unicode.IsSpace(r) })
	for _, l := range agentLabels {
		if label == l {
			return intake.SpeakerAgent, rest, true
		}
	}
	for _, l := range callerLabels {
		if label == l {
			return intake.SpeakerCaller, rest, true
		}
	}
	return "", "", false
}
