package phone

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	intake "github.com/hotline12345/intake-gateway"
)

// parsed is a transcript's segments with the line each began on, for error messages.
type parsed struct {
	segments []intake.Segment
	lines    []int
}

// position reports problems with segment i as "<field>: line N: …".
func (p *parsed) position(field string) position {
	return func(i int) (string, string) {
		if i < 0 || i >= len(p.lines) {
			return field, ""
		}
		return field, fmt.Sprintf("line %d: ", p.lines[i])
	}
}

// ParseText parses and validates a plain-text transcript with the call's metadata. Each
// non-empty line is one turn and begins with a speaker label and a colon, full- or half-width:
// "坐席：您好，12345热线。" / "市民: 我要反映…" (labels: see Labels). The text has no times, so
// segments carry start_ms = end_ms = 0 and confidence 1 (no ASR score).
func ParseText(meta Meta, transcript []byte, opts Options) (*Call, error) {
	opts = opts.withDefaults()
	e := &errs{}
	if !utf8.Valid(transcript) {
		e.add("body", "is not valid UTF-8")
		return nil, e.err()
	}
	c := &Call{Format: FormatText}
	applyMeta(c, meta, e)
	p := parseText(string(transcript), "body", e)
	c.Segments = p.segments
	validate(c, opts, false, p.position("body"), e)
	if err := e.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// maxLabelRunes bounds how far into a line the speaker label's colon may be.
const maxLabelRunes = 8

// parseText splits a labelled transcript into segments. Problems are reported on field.
func parseText(s, field string, e *errs) *parsed {
	p := &parsed{}
	s = strings.TrimPrefix(s, "\uFEFF")
	lineNo := 0
	for len(s) > 0 {
		var line string
		line, s, _ = strings.Cut(s, "\n")
		lineNo++
		line = strings.TrimFunc(line, unicode.IsSpace) // also drops a trailing \r
		if line == "" {
			continue
		}
		label, text, ok := cutLabel(line)
		if !ok {
			e.add(field, "line %d: does not begin with a speaker label and a colon (坐席：… or 市民：…)", lineNo)
			continue
		}
		speaker, known := speakerFor(label)
		if !known {
			e.add(field, "line %d: unknown speaker label %q (known: %s)", lineNo, label, strings.Join(Labels(), ", "))
			continue
		}
		p.segments = append(p.segments, intake.Segment{Speaker: speaker, Text: text, Confidence: 1})
		p.lines = append(p.lines, lineNo)
	}
	return p
}

// cutLabel splits "label：text" at the first colon (： or :) within maxLabelRunes runes.
func cutLabel(line string) (label, text string, ok bool) {
	runes := 0
	for i, r := range line {
		if r == '：' || r == ':' {
			label = strings.TrimFunc(line[:i], unicode.IsSpace)
			if label == "" {
				return "", "", false
			}
			return label, strings.TrimFunc(line[i+utf8.RuneLen(r):], unicode.IsSpace), true
		}
		runes++
		if runes > maxLabelRunes {
			break
		}
	}
	return "", "", false
}
