package phone

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
)

// ParseWebVTT parses and validates a WebVTT transcript with the call's metadata. Every cue is
// one segment: its times are the segment's, its speaker the annotation of its <v> voice tag
// (<v 市民>…, <v.loud 坐席>…; see Labels), its text the payload without tags. NOTE, STYLE and
// REGION blocks are skipped. A cue without a voice tag, or with two different voices, is
// refused. WebVTT carries no ASR score: segments get confidence 1.
func ParseWebVTT(meta Meta, transcript []byte, opts Options) (*Call, error) {
	opts = opts.withDefaults()
	e := &errs{}
	if !utf8.Valid(transcript) {
		e.add("body", "is not valid UTF-8")
		return nil, e.err()
	}
	c := &Call{Format: FormatWebVTT}
	applyMeta(c, meta, e)
	p := parseWebVTT(string(transcript), "body", e)
	c.Segments = p.segments
	validate(c, opts, true, p.position("body"), e)
	if err := e.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// vttLines splits s into lines as WebVTT defines them (CRLF, LF or CR).
func vttLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.Split(s, "\n")
}

func parseWebVTT(s, field string, e *errs) *parsed {
	p := &parsed{}
	s = strings.TrimPrefix(s, "\uFEFF")
	lines := vttLines(s)
	if !isSignature(lines[0]) {
		e.add(field, "line 1: not WebVTT (the first line must be WEBVTT)")
		return p
	}
	i := 1
	// The header runs to the first blank line.
	for i < len(lines) && lines[i] != "" {
		if strings.Contains(lines[i], "-->") {
			e.add(field, "line %d: a cue must be separated from the WEBVTT header by a blank line", i+1)
			return p
		}
		i++
	}
	for i < len(lines) {
		if strings.TrimSpace(lines[i]) == "" {
			i++
			continue
		}
		start := i
		for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
			i++
		}
		parseBlock(lines[start:i], start+1, p, field, e)
	}
	return p
}

func isSignature(line string) bool {
	rest, ok := strings.CutPrefix(line, "WEBVTT")
	return ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t')
}

func isBlockKeyword(line, kw string) bool {
	rest, ok := strings.CutPrefix(line, kw)
	return ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t')
}

// parseBlock handles one block; firstLine is its 1-based line number.
func parseBlock(block []string, firstLine int, p *parsed, field string, e *errs) {
	if isBlockKeyword(block[0], "NOTE") || isBlockKeyword(block[0], "STYLE") || isBlockKeyword(block[0], "REGION") {
		return
	}
	timing := 0
	if !strings.Contains(block[0], "-->") {
		// A cue identifier; the timing line follows.
		timing = 1
		if len(block) < 2 || !strings.Contains(block[1], "-->") {
			e.add(field, "line %d: a cue needs a timing line (00:00:01.000 --> 00:00:04.000)", firstLine)
			return
		}
	}
	lineNo := firstLine + timing
	start, end, ok := parseTiming(block[timing])
	if !ok {
		e.add(field, "line %d: malformed cue timing %q", lineNo, truncate(block[timing], 60))
		return
	}
	payload := block[timing+1:]
	if len(payload) == 0 {
		return // an empty cue says nothing
	}
	var speaker intake.Speaker
	var texts []string
	for k, line := range payload {
		voice, hasVoice, text, ok := stripTags(line)
		if !ok {
			e.add(field, "line %d: malformed tag", lineNo+1+k)
			return
		}
		if hasVoice {
			sp, known := speakerFor(voice)
			if !known {
				e.add(field, "line %d: unknown speaker label %q (known: %s)", lineNo+1+k, truncate(voice, 20), strings.Join(Labels(), ", "))
				return
			}
			if speaker != "" && sp != speaker {
				e.add(field, "line %d: a cue has one speaker; split it into cues", lineNo+1+k)
				return
			}
			speaker = sp
		} else if k == 0 {
			e.add(field, "line %d: the cue has no <v> speaker tag", lineNo+1)
			return
		}
		if t := strings.TrimFunc(text, unicode.IsSpace); t != "" {
			texts = append(texts, t)
		}
	}
	p.segments = append(p.segments, intake.Segment{
		Speaker: speaker, StartMS: start, EndMS: end, Text: strings.Join(texts, "\n"), Confidence: 1,
	})
	p.lines = append(p.lines, lineNo)
}

// parseTiming reads "start --> end [settings]".
func parseTiming(line string) (start, end int64, ok bool) {
	a, b, found := strings.Cut(line, "-->")
	if !found {
		return 0, 0, false
	}
	start, ok = parseTimestamp(strings.TrimFunc(a, isVTTSpace))
	if !ok {
		return 0, 0, false
	}
	b = strings.TrimLeftFunc(b, isVTTSpace)
	if i := strings.IndexFunc(b, isVTTSpace); i >= 0 {
		b = b[:i] // cue settings follow
	}
	end, ok = parseTimestamp(b)
	return start, end, ok
}

func isVTTSpace(r rune) bool { return r == ' ' || r == '\t' }

// parseTimestamp reads [hh:]mm:ss.ttt, hours of two or more digits, into milliseconds.
func parseTimestamp(s string) (int64, bool) {
	parts := strings.Split(s, ":")
	if len(parts) != 2 && len(parts) != 3 {
		return 0, false
	}
	var hours int64
	if len(parts) == 3 {
		h := parts[0]
		if len(h) < 2 || len(h) > 4 {
			return 0, false
		}
		var ok bool
		if hours, ok = digits(h); !ok {
			return 0, false
		}
		parts = parts[1:]
	}
	mins, ok := digits(parts[0])
	if !ok || len(parts[0]) != 2 || mins > 59 {
		return 0, false
	}
	secStr, msStr, found := strings.Cut(parts[1], ".")
	if !found || len(secStr) != 2 || len(msStr) != 3 {
		return 0, false
	}
	secs, ok1 := digits(secStr)
	ms, ok2 := digits(msStr)
	if !ok1 || !ok2 || secs > 59 {
		return 0, false
	}
	return ((hours*60+mins)*60+secs)*1000 + ms, true
}

func digits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// stripTags removes the cue tags of one payload line (<v …>, <c.x>, <i>, <b>, <u>, <ruby>,
// <rt>, <lang …>, timestamps <00:00:01.000> and their end tags) and decodes character
// references. It reports the annotation of the first <v> tag. A "<" without a closing ">" is
// malformed.
func stripTags(line string) (voice string, hasVoice bool, text string, ok bool) {
	var b strings.Builder
	for {
		i := strings.IndexByte(line, '<')
		if i < 0 {
			b.WriteString(line)
			break
		}
		b.WriteString(line[:i])
		j := strings.IndexByte(line[i:], '>')
		if j < 0 {
			return "", false, "", false
		}
		tag := line[i+1 : i+j]
		line = line[i+j+1:]
		if annotation, isV := voiceTag(tag); isV && !hasVoice {
			voice, hasVoice = annotation, true
		}
	}
	return voice, hasVoice, html.UnescapeString(b.String()), true
}

// voiceTag recognises "v ann" and "v.class ann" and returns the annotation ("" when absent).
func voiceTag(tag string) (annotation string, ok bool) {
	rest, isV := strings.CutPrefix(tag, "v")
	if !isV || (rest != "" && rest[0] != '.' && rest[0] != ' ' && rest[0] != '\t') {
		return "", false
	}
	if rest != "" && rest[0] == '.' {
		k := strings.IndexAny(rest, " \t")
		if k < 0 {
			return "", true // <v.class> without annotation
		}
		rest = rest[k:]
	}
	return strings.TrimFunc(rest, unicode.IsSpace), true
}
