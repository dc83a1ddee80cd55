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
// or caller labels above; lines without a label continue the turn before them. ok is false, and
// no segments are returned, when the first non-blank line has no speaker label: the text is then
// not a transcript. Segment texts are cleaned with CleanText; times and confidence are zero
// because plain text carries none.
func ParseTranscript(text string) (segments []intake.Segment, ok bool) {
	for line := range strings.Lines(CleanText(text)) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		speaker, rest, labelled := splitSpeaker(line)
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
			last.Text += line
		}
	}
	return segments, len(segments) > 0
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
