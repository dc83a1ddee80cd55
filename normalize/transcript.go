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
// or caller labels above; lines without a label continue the turn before them. A transcript
// whose lines make a single turn is read again with turns also starting at a label after a
// sentence end or a space inside a line (splitTurns): exports, speech recognition and forms
// that drop line breaks put a whole call on one line ("坐席：您好。市民：我爸倒在地上了。"). A
// transcript of several labelled lines is not split inside them, so that a caller quoting staff
// ("接线员：让我等着。") keeps the rest of the line. ok is false, and no segments are returned,
// when the first non-blank line has no speaker label: the text is then not a transcript. Segment
// texts are cleaned with CleanText; times and confidence are zero because plain text carries
// none.
func ParseTranscript(text string) (segments []intake.Segment, ok bool) {
	text = CleanText(text)
	segments, ok = parseTurns(text, false)
	if ok && len(segments) == 1 {
		if inLine, ok := parseTurns(text, true); ok {
			return inLine, true
		}
	}
	return segments, ok
}

// parseTurns reads turns line by line, and within lines too when inLine is set.
func parseTurns(text string, inLine bool) (segments []intake.Segment, ok bool) {
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if len(segments) == 0 {
			// Not a transcript: decided before any splitting, which every text would pay for.
			if _, _, labelled := splitSpeaker(line); !labelled {
				return nil, false
			}
		}
		pieces := []string{line}
		if inLine {
			pieces = splitTurns(line)
		}
		for _, piece := range pieces {
			piece = strings.TrimSpace(piece)
			if piece == "" {
				continue
			}
			speaker, rest, labelled := splitSpeaker(piece)
			switch {
			case labelled:
				segments = append(segments, intake.Segment{Speaker: speaker, Text: rest})
				continue
			case len(segments) == 0:
				// The line's label was cut through ("�  市民：" folds to a label whole, but
				// not in pieces): no turn to continue.
				return nil, false
			}
			last := &segments[len(segments)-1]
			if last.Text != "" {
				last.Text += "\n"
			}
			last.Text += piece
		}
	}
	return segments, len(segments) > 0
}

// splitTurns cuts a line before every speaker label that follows a sentence end, a closing
// bracket or quote, or a space; a label inside a sentence ("请告诉市民：…") does not cut. The
// pieces joined give the line back.
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
	case '。', '！', '？', '!', '?', '；', ';', '…', '.', '．', '”', '’', '"', '」', '』', '）', ')',
		' ', '\t', '\u3000':
		return true
	}
	return false
}

// labelHeadBytes bounds the look-ahead for a label: 12 runes of at most 4 bytes and a colon.
const labelHeadBytes = 12*utf8.UTFMax + len("：")

// startsWithLabel reports whether s starts with "LABEL：" for a known speaker label. It looks at
// most labelHeadBytes ahead (and skips no space: a space is a boundary of its own), so that
// splitting a line costs time linear in its length.
func startsWithLabel(s string) bool {
	head := s[:min(len(s), labelHeadBytes)]
	i, colon := colonIndex(head)
	if i <= 0 {
		return false
	}
	_, _, ok := splitSpeaker(s[:i+colon])
	return ok
}

// colonIndex returns the byte offset and length of the first ':' or '：' in s, or -1. It
// compares bytes: strings.IndexAny with a non-ASCII set decodes every rune, and this runs at
// every possible turn boundary.
func colonIndex(s string) (int, int) {
	const fw = "："
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == ':':
			return i, 1
		case s[i] == fw[0] && strings.HasPrefix(s[i:], fw):
			return i, len(fw)
		}
	}
	return -1, 0
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
