package twilio

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Structured is an SMS in the form several cities publish for their 12345 SMS channel:
// "12345#姓名#地址#内容", with half-width "#" or full-width "＃" separators (mixed is fine).
type Structured struct {
	Name    string
	Address string
	Content string
}

// Limits that keep a free-form message from being misread as the structured form: a "name" of
// a sentence's length is not a name.
const (
	maxStructuredName    = 50
	maxStructuredAddress = 500
)

// ParseStructured recognises the structured form. The prefix must be 12345 (half- or
// full-width digits); there must be four fields, of which the content is the rest of the
// message and may itself contain "#"; name and address may be empty, the content may not. Every
// field is trimmed. Anything else is not the structured form (ok=false) and the whole message
// stays the text.
func ParseStructured(body string) (s Structured, ok bool) {
	body = strings.TrimFunc(body, unicode.IsSpace)
	parts := splitHash(body, 4)
	if len(parts) != 4 || !isHotlinePrefix(strings.TrimFunc(parts[0], unicode.IsSpace)) {
		return Structured{}, false
	}
	s = Structured{
		Name:    strings.TrimFunc(parts[1], unicode.IsSpace),
		Address: strings.TrimFunc(parts[2], unicode.IsSpace),
		Content: strings.TrimFunc(parts[3], unicode.IsSpace),
	}
	if s.Content == "" || utf8.RuneCountInString(s.Name) > maxStructuredName ||
		utf8.RuneCountInString(s.Address) > maxStructuredAddress {
		return Structured{}, false
	}
	return s, true
}

// splitHash splits s at "#" or "＃" into at most n parts.
func splitHash(s string, n int) []string {
	var parts []string
	for len(parts) < n-1 {
		i := strings.IndexAny(s, "#＃")
		if i < 0 {
			break
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		parts = append(parts, s[:i])
		s = s[i+size:]
	}
	return append(parts, s)
}

func isHotlinePrefix(p string) bool {
	return p == "12345" || p == "１２３４５"
}
