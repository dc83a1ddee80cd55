package normalize

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"

	"github.com/hotline12345/intake-gateway/normalize/t2s"
)

// MatchText returns the copy of s that every rule (taxonomy phrases, emergency cues, places) is
// matched against; the citizen's original text is never replaced by it. In order:
//
//   - CleanText: valid UTF-8, NFC, no control or format characters;
//   - full-width → half-width (golang.org/x/text/width), so "１２３４５？" becomes "12345?";
//   - lower case;
//   - emoji and decoration removed: symbols of category So and Sk (emoji, dingbats, ★, skin-tone
//     modifiers), enclosing marks (keycaps), variation selectors, ZWJ, private-use and unassigned
//     code points. Han (including radicals), letters, digits and other numbers, punctuation, and
//     math and currency signs are kept: punctuation marks sentence boundaries and "?" questions;
//   - white space collapsed: dropped next to a Han character (ASR output often spaces out words),
//     otherwise one ' ', and a run containing a line break becomes one '\n' (transcript turns);
//   - traditional → simplified with OpenCC's data (package t2s);
//   - NFC again, for the rare sequences that the removals above bring together.
//
// MatchText is idempotent, and it never drops a Han character, letter or digit (property tests in
// match_test.go and FuzzMatchText). It is safe for concurrent use.
func MatchText(s string) string {
	s = CleanText(s)
	if s == "" {
		return ""
	}
	var b strings.Builder
	b.Grow(len(s))
	const (
		gapNone = iota
		gapSpace
		gapLine
	)
	gap := gapNone
	lastHan := false
	for _, r := range s {
		if f := width.LookupRune(r).Folded(); f != 0 {
			r = f
		}
		if unicode.IsSpace(r) {
			if r == '\n' || r == '\u2029' {
				gap = gapLine
			} else if gap == gapNone {
				gap = gapSpace
			}
			continue
		}
		if !keepRune(r) {
			continue
		}
		r = unicode.ToLower(r)
		han := unicode.Is(unicode.Han, r)
		if b.Len() > 0 {
			switch {
			case gap == gapLine:
				b.WriteByte('\n')
			case gap == gapSpace && !han && !lastHan:
				b.WriteByte(' ')
			}
		}
		gap = gapNone
		b.WriteRune(r)
		lastHan = han
	}
	out := t2s.Convert(b.String())
	if !norm.NFC.IsNormalString(out) {
		out = norm.NFC.String(out)
	}
	return out
}

// keepRune reports whether r survives the emoji and decoration filter of MatchText.
func keepRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 0x20 && r != 0x7f && r != '^' && r != '`'
	}
	switch {
	case unicode.Is(unicode.Han, r), unicode.IsLetter(r), unicode.IsNumber(r):
		return true
	case unicode.Is(unicode.Variation_Selector, r):
		return false
	case unicode.IsPunct(r), unicode.Is(unicode.Sm, r), unicode.Is(unicode.Sc, r):
		return true
	case unicode.Is(unicode.Mn, r), unicode.Is(unicode.Mc, r):
		// Combining marks belong to the letter before them (é, Indic vowel signs).
		return true
	}
	// So, Sk (emoji, dingbats, modifiers), Me (keycaps), Cf (ZWJ, tags), Co, Cn.
	return false
}
