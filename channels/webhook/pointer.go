package webhook

import (
	"errors"
	"strconv"
	"strings"
)

// Pointer is a parsed JSON Pointer (RFC 6901), evaluated against documents decoded by
// encoding/json with UseNumber (map[string]any, []any, string, json.Number, bool, nil).
//
// It is implemented here rather than taken from go-openapi/jsonpointer because that package
// walks Go values by reflection and accepts array indexes RFC 6901 forbids ("01", "+1"); a
// pointer an operator writes must mean exactly one thing, and this small evaluator is fuzzed.
type Pointer struct {
	raw    string
	tokens []string
}

// ParsePointer parses s. The empty string is the whole document; anything else starts with
// "/". In a reference token "~1" stands for "/" and "~0" for "~"; any other "~" is an error.
func ParsePointer(s string) (Pointer, error) {
	if s == "" {
		return Pointer{}, nil
	}
	if s[0] != '/' {
		return Pointer{}, errors.New("a JSON pointer starts with \"/\" (RFC 6901), e.g. /data/text")
	}
	parts := strings.Split(s[1:], "/")
	for i, p := range parts {
		if !strings.Contains(p, "~") {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(p); j++ {
			if p[j] != '~' {
				b.WriteByte(p[j])
				continue
			}
			if j+1 >= len(p) || (p[j+1] != '0' && p[j+1] != '1') {
				return Pointer{}, errors.New("\"~\" in a JSON pointer must be followed by 0 or 1 (~0 is \"~\", ~1 is \"/\")")
			}
			if p[j+1] == '0' {
				b.WriteByte('~')
			} else {
				b.WriteByte('/')
			}
			j++
		}
		parts[i] = b.String()
	}
	return Pointer{raw: s, tokens: parts}, nil
}

// MustPointer is ParsePointer for constants.
func MustPointer(s string) Pointer {
	p, err := ParsePointer(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String is the pointer as written.
func (p Pointer) String() string { return p.raw }

// IsRoot reports whether p is the empty pointer (the whole document).
func (p Pointer) IsRoot() bool { return len(p.tokens) == 0 }

// Get returns the value p refers to in doc; ok is false when it does not exist. A JSON null
// that exists is returned as (nil, true).
func (p Pointer) Get(doc any) (any, bool) {
	cur := doc
	for _, tok := range p.tokens {
		switch v := cur.(type) {
		case map[string]any:
			next, ok := v[tok]
			if !ok {
				return nil, false
			}
			cur = next
		case []any:
			i, ok := arrayIndex(tok)
			if !ok || i >= len(v) {
				return nil, false
			}
			cur = v[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// arrayIndex reads an RFC 6901 array index: "0", or digits without a leading zero. "-" (the
// element after the last) never exists for reading.
func arrayIndex(tok string) (int, bool) {
	if tok == "" || len(tok) > 9 || (len(tok) > 1 && tok[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < '0' || tok[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(tok)
	return n, err == nil
}

// EscapeToken escapes one reference token for use in a pointer.
func EscapeToken(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
