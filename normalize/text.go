package normalize

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// CleanText returns s in NFC with line endings unified to \n, control and format characters
// other than newline and tab removed (they carry no meaning for a reader and break templates),
// and surrounding white space, including the ideographic space U+3000, trimmed. Invalid UTF-8
// bytes become U+FFFD so that the result is always valid. The surfaces refuse invalid UTF-8
// before it gets here; this keeps the function total.
//
// Characters are removed before normalizing: a control character between a letter and a
// combining mark ("A\x1b\u0301") would otherwise keep them apart through NFC, and the second
// cleaning of the result would compose them — CleanText must be idempotent.
func CleanText(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case unicode.IsControl(r):
			return -1
		case unicode.Is(unicode.Cf, r) && r != '\u200d':
			// Zero-width and direction marks; ZWJ is kept because it binds emoji sequences.
			return -1
		}
		return r
	}, s)
	return strings.TrimFunc(norm.NFC.String(s), unicode.IsSpace)
}

// FoldForMatching returns the copy of s that matchers compare against: cleaned, full-width forms
// folded to half-width (so "１２３４５" and "12345" match alike), and lower-cased. The original is
// never replaced by it.
func FoldForMatching(s string) string {
	return strings.ToLower(width.Fold.String(CleanText(s)))
}

// RuneCount is the length of s as a citizen would count it: characters, not bytes.
func RuneCount(s string) int { return utf8.RuneCountInString(s) }
