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
	// The same cleaning as CleanText, fused into one pass with the folding below (MatchText runs
	// on every submission and every rule phrase).
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = norm.NFC.String(s) // returns s itself when it is already NFC, as nearly all text is
	var b strings.Builder
	b.Grow(len(s))
	const (
		gapNone = iota
		gapSpace
		gapLine
	)
	gap := gapNone
	lastHan, recompose := false, false
	for _, r := range s {
		if 0x4e00 <= r && r <= 0x9fff { // CJK Unified Ideographs: the common case, nothing to fold
			if gap == gapLine && b.Len() > 0 {
				b.WriteByte('\n')
			}
			gap = gapNone
			b.WriteRune(r)
			lastHan = true
			continue
		}
		if f := width.LookupRune(r).Folded(); f != 0 {
			r = f
		}
		if r == '\r' || r == '\n' || r == '\u2029' {
			gap = gapLine
			continue
		}
		if unicode.IsSpace(r) {
			if gap == gapNone {
				gap = gapSpace
			}
			continue
		}
		if !keepRune(r) {
			continue
		}
		han := unicode.Is(unicode.Han, r)
		if !han {
			r = unicode.ToLower(r)
			// Only marks and conjoining jamo can compose with what precedes them once a removed
			// character no longer separates them.
			recompose = recompose || unicode.In(r, unicode.M) || 0x1100 <= r && r <= 0x11ff ||
				0xa960 <= r && r <= 0xa97f || 0xd7b0 <= r && r <= 0xd7ff
		}
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
	if recompose {
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
	case unicode.IsControl(r):
		return false
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
