package webhook

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/textproto"
	"slices"
	"strings"

	"github.com/hotline12345/intake-gateway/channels"
)

// Signature schemes.
const (
	// SchemeHMACSHA256 is HMAC-SHA256 keyed with the secret over the signed parts joined by the
	// separator (by default the raw body alone).
	SchemeHMACSHA256 = "hmac-sha256"
	// SchemeSHA1Sorted is the Weibo/WeChat scheme: SHA-1 over the signed parts (which include the
	// secret) sorted as byte strings and concatenated.
	SchemeSHA1Sorted = "sha1-sorted"
)

type refKind int

const (
	refBody refKind = iota + 1
	refSecret
	refHeader
	refQuery
	refPointer
)

// ref names one value of a request: the raw body, the secret, a header, a query parameter or
// (for the timestamp only) a JSON pointer into the body.
type ref struct {
	kind refKind
	name string
}

func (r ref) String() string {
	switch r.kind {
	case refBody:
		return "body"
	case refSecret:
		return "secret"
	case refHeader:
		return "header:" + r.name
	case refQuery:
		return "query:" + r.name
	case refPointer:
		return "pointer:" + r.name
	}
	return "?"
}

func parseRef(s string) (ref, error) {
	switch {
	case s == "body":
		return ref{kind: refBody}, nil
	case s == "secret":
		return ref{kind: refSecret}, nil
	case strings.HasPrefix(s, "header:") && len(s) > len("header:"):
		name := strings.TrimPrefix(s, "header:")
		if strings.ContainsAny(name, " :\t") {
			return ref{}, errors.New("invalid header name")
		}
		return ref{kind: refHeader, name: canonicalHeader(name)}, nil
	case strings.HasPrefix(s, "query:") && len(s) > len("query:"):
		return ref{kind: refQuery, name: strings.TrimPrefix(s, "query:")}, nil
	}
	return ref{}, errors.New(`must be body, secret, header:<Name> or query:<name>`)
}

func canonicalHeader(name string) string { return textproto.CanonicalMIMEHeaderKey(name) }

type sigSpec struct {
	scheme   string
	secret   []byte
	header   string // where the signature is: a header …
	query    string // … or a query parameter
	encoding string // hex or base64
	prefix   string
	signed   []ref
	sep      string
}

func compileSignature(e *errs, r *rawSignature, appSecret string) sigSpec {
	var s sigSpec
	if r == nil {
		e.add("signature", "is required: every webhook is authenticated (scheme, secret, header or query)")
		return s
	}
	switch r.Scheme {
	case SchemeHMACSHA256, SchemeSHA1Sorted:
		s.scheme = r.Scheme
	default:
		e.add("signature.scheme", "must be one of [%s %s], got %q", SchemeHMACSHA256, SchemeSHA1Sorted, r.Scheme)
	}
	switch {
	case r.Secret != "" && appSecret != "" && r.Secret != appSecret:
		e.add("signature.secret", "and app_secret are both set and differ; set one")
	case r.Secret != "":
		s.secret = []byte(r.Secret)
	case appSecret != "":
		s.secret = []byte(appSecret)
	default:
		e.add("signature.secret", "is required (write it as \"${NAME}\" to read it from the environment)")
	}
	if len(s.secret) > 0 && len(s.secret) < 8 {
		e.add("signature.secret", "is too short to be a secret (at least 8 bytes)")
	}
	switch {
	case (r.Header == "") == (r.Query == ""):
		e.add("signature", "set exactly one of header or query (where the request carries the signature)")
	case r.Header != "":
		if strings.ContainsAny(r.Header, " :\t") {
			e.add("signature.header", "invalid header name %q", r.Header)
		}
		s.header = canonicalHeader(r.Header)
	default:
		s.query = r.Query
	}
	switch r.Encoding {
	case "", "hex":
		s.encoding = "hex"
	case "base64":
		s.encoding = "base64"
		if r.Scheme == SchemeSHA1Sorted {
			e.add("signature.encoding", "sha1-sorted signatures are hex")
		}
	default:
		e.add("signature.encoding", "must be hex or base64, got %q", r.Encoding)
	}
	s.prefix = r.Prefix
	s.sep = r.Separator
	if r.Separator != "" && r.Scheme == SchemeSHA1Sorted {
		e.add("signature.separator", "does not apply to sha1-sorted (the sorted parts are concatenated)")
	}
	signed := r.Signed
	if len(signed) == 0 {
		switch r.Scheme {
		case SchemeHMACSHA256:
			signed = []string{"body"}
		case SchemeSHA1Sorted:
			signed = []string{"secret", "query:timestamp", "query:nonce"}
		}
	}
	for i, v := range signed {
		rf, err := parseRef(v)
		if err != nil {
			e.add("signature.signed", "item %d %q: %v", i, v, err)
			continue
		}
		if slices.Contains(s.signed, rf) {
			e.add("signature.signed", "item %d %q is listed twice", i, v)
		}
		s.signed = append(s.signed, rf)
	}
	hasSecret := slices.Contains(s.signed, ref{kind: refSecret})
	switch {
	case s.scheme == SchemeSHA1Sorted && !hasSecret:
		e.add("signature.signed", "must include secret: without it a sha1-sorted signature is a plain hash anyone can compute")
	case s.scheme == SchemeHMACSHA256 && hasSecret:
		e.add("signature.signed", "must not include secret: it is the HMAC key")
	}
	if s.header != "" && slices.Contains(s.signed, ref{kind: refHeader, name: s.header}) ||
		s.query != "" && slices.Contains(s.signed, ref{kind: refQuery, name: s.query}) {
		e.add("signature.signed", "cannot include the signature itself")
	}
	return s
}

// covers reports whether the signature authenticates the value r refers to.
func (s sigSpec) covers(r ref) bool {
	if r.kind == refPointer {
		return slices.Contains(s.signed, ref{kind: refBody})
	}
	return slices.Contains(s.signed, r)
}

// verify checks the request's signature. The comparison is constant-time on the decoded bytes;
// how the provided value fails to decode depends only on the value, not on the secret.
func (s sigSpec) verify(r *http.Request, body []byte) *channels.Rejection {
	var given string
	var present bool
	if s.header != "" {
		vals := r.Header.Values(s.header)
		present = len(vals) > 0
		if len(vals) > 1 {
			return channels.Reject(http.StatusForbidden, "bad_signature", "invalid signature")
		}
		if present {
			given = vals[0]
		}
	} else {
		given = r.URL.Query().Get(s.query)
		present = r.URL.Query().Has(s.query)
	}
	if !present || given == "" {
		return channels.Reject(http.StatusForbidden, "missing_signature", "missing signature")
	}
	got, ok := DecodeSignature(given, s.prefix, s.encoding)
	if !ok {
		return channels.Reject(http.StatusForbidden, "bad_signature", "invalid signature")
	}
	parts := make([]string, 0, len(s.signed))
	for _, rf := range s.signed {
		v, ok := s.value(rf, r, body)
		if !ok {
			return channels.Reject(http.StatusBadRequest, "missing_signed_value", "missing "+rf.String())
		}
		parts = append(parts, v)
	}
	if !hmac.Equal(got, s.expected(parts)) {
		return channels.Reject(http.StatusForbidden, "bad_signature", "invalid signature")
	}
	return nil
}

// identity returns a verified request's signature in one spelling — the decoded bytes in hex,
// whatever case, alphabet or padding the request wrote them in — and, for the record, the
// signed values that are neither the secret nor the body (the timestamp and nonce, typically).
func (s sigSpec) identity(r *http.Request) (signature, nonce string) {
	given := r.URL.Query().Get(s.query)
	if s.header != "" {
		given = r.Header.Get(s.header)
	}
	raw, _ := DecodeSignature(given, s.prefix, s.encoding)
	var parts []string
	for _, rf := range s.signed {
		if rf.kind == refHeader || rf.kind == refQuery {
			v, _ := s.value(rf, r, nil)
			parts = append(parts, v)
		}
	}
	nonce = strings.Join(parts, "&")
	if len(nonce) > 256 {
		nonce = nonce[:256]
	}
	return hex.EncodeToString(raw), nonce
}

func (s sigSpec) value(rf ref, r *http.Request, body []byte) (string, bool) {
	switch rf.kind {
	case refBody:
		return string(body), true
	case refSecret:
		return string(s.secret), true
	case refHeader:
		vals := r.Header.Values(rf.name)
		if len(vals) != 1 || vals[0] == "" {
			return "", false
		}
		return vals[0], true
	case refQuery:
		q := r.URL.Query()
		if len(q[rf.name]) != 1 || q.Get(rf.name) == "" {
			return "", false
		}
		return q.Get(rf.name), true
	}
	return "", false
}

// expected is the signature the parts must carry.
func (s sigSpec) expected(parts []string) []byte {
	switch s.scheme {
	case SchemeHMACSHA256:
		m := hmac.New(sha256.New, s.secret)
		for i, p := range parts {
			if i > 0 {
				m.Write([]byte(s.sep))
			}
			m.Write([]byte(p))
		}
		return m.Sum(nil)
	case SchemeSHA1Sorted:
		sorted := slices.Clone(parts)
		slices.Sort(sorted)
		sum := sha1.Sum([]byte(strings.Join(sorted, "")))
		return sum[:]
	}
	return nil
}

// DecodeSignature reads a signature value as a platform writes it: an optional literal prefix
// (such as "sha256="), then hex (either case) or base64 (standard or URL alphabet, padded or
// not). ok is false when the value does not have that shape.
func DecodeSignature(value, prefix, encoding string) ([]byte, bool) {
	if len(value) > 512 {
		return nil, false
	}
	v, found := strings.CutPrefix(strings.TrimSpace(value), prefix)
	if !found || v == "" {
		return nil, false
	}
	switch encoding {
	case "hex":
		b, err := hex.DecodeString(v)
		return b, err == nil
	case "base64":
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.Strict().DecodeString(v); err == nil {
				return b, true
			}
		}
	}
	return nil, false
}
