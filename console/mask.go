package console

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/hotline12345/intake-gateway/internal/logging"
)

// maskName keeps a name's first character: 王女士 → 王**.
func maskName(name string) string {
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(name)
	return string(r) + strings.Repeat("*", max(n-1, 1))
}

// maskID keeps the first four characters of a platform id (openid, Weibo uid).
func maskID(id string) string {
	if id == "" {
		return ""
	}
	r := []rune(id)
	if len(r) <= 6 {
		return "****"
	}
	return string(r[:4]) + "****"
}

// maskAddress keeps the first third of an address (at most six characters: the district or
// road), enough to place a case without finding a door.
func maskAddress(addr string) string {
	r := []rune(addr)
	if len(r) == 0 {
		return ""
	}
	keep := min(len(r)/3, 6)
	return string(r[:keep]) + "***"
}

// digitRun finds numbers long enough to be a phone number or an identity card number inside
// free text.
var digitRun = regexp.MustCompile(`\d[\d -]{5,}\d[\dXx]?`)

// dateLike is a date written with hyphens (2026-12-05), which digitRun would otherwise take for
// a number.
var dateLike = regexp.MustCompile(`^\d{4}-\d{1,2}-\d{1,2}$`)

// maskText masks phone and identity numbers a citizen wrote into a text.
func maskText(text string) string {
	return digitRun.ReplaceAllStringFunc(text, func(s string) string {
		if dateLike.MatchString(s) {
			return s
		}
		digits := strings.Map(func(r rune) rune {
			if r == ' ' || r == '-' {
				return -1
			}
			return r
		}, s)
		if len(digits) < 7 {
			return s
		}
		return logging.MaskPhone(digits)
	})
}
