package twilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"net"
	"net/url"
	"slices"
	"strings"
)

// This file implements X-Twilio-Signature ourselves rather than through twilio-go's
// client.RequestValidator, which signs only the first value of a repeated form key (Twilio signs
// every value) and whose port handling splits hosts on ":" (breaking IPv6 literals).
//
// The algorithm, as Twilio's libraries implement it: base64(HMAC-SHA1(auth token, URL + for each
// parameter name in sorted order, for each of its values in sorted order: name + value)). The
// URL is the one Twilio called, query string included. A JSON body is not signed as parameters:
// Twilio adds ?bodySHA256=<hex sha256(body)> to the URL, signs the URL alone, and the body is
// checked against that hash separately.

// SignatureHeader carries Twilio's request signature.
const SignatureHeader = "X-Twilio-Signature"

// BodyHashParam is the query parameter carrying the SHA-256 of a signed JSON body.
const BodyHashParam = "bodySHA256"

// Signature returns the X-Twilio-Signature Twilio sends for a request to rawURL with the given
// POST parameters. Repeated names contribute one name+value per distinct value, values sorted,
// as twilio-node does.
func Signature(authToken, rawURL string, params url.Values) string {
	return signature(hmac.New(sha1.New, []byte(authToken)), rawURL, params, true)
}

// signature computes the signature with mac (reset first). dedup drops repeated identical values
// of one name (twilio-node); without it every value counts.
func signature(mac hash.Hash, rawURL string, params url.Values, dedup bool) string {
	mac.Reset()
	mac.Write([]byte(rawURL))
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		vals := params[k]
		if len(vals) > 1 {
			vals = slices.Clone(vals)
			slices.Sort(vals)
			if dedup {
				vals = slices.Compact(vals)
			}
		}
		for _, v := range vals {
			mac.Write([]byte(k))
			mac.Write([]byte(v))
		}
	}
	var sum [sha1.Size]byte
	return base64.StdEncoding.EncodeToString(mac.Sum(sum[:0]))
}

// hasRepeatedValue reports whether some name carries the same value twice, the one case where
// signing with and without de-duplication differ.
func hasRepeatedValue(params url.Values) bool {
	for _, vals := range params {
		if len(vals) < 2 {
			continue
		}
		s := slices.Clone(vals)
		slices.Sort(s)
		for i := 1; i < len(s); i++ {
			if s[i] == s[i-1] {
				return true
			}
		}
	}
	return false
}

// ValidateSignature reports whether sig is Twilio's signature of a form-encoded request to
// rawURL carrying params. Like Twilio's libraries it accepts the URL with and without the
// default port of its scheme (443 for https, 80 for http); a non-default port must match. When
// rawURL carries bodySHA256, params must be empty (the JSON variant): use ValidateBody instead
// to check the body as well.
func ValidateSignature(authToken, rawURL string, params url.Values, sig string) bool {
	return newVerifier(authToken).valid(urlVariants(rawURL), params, sig)
}

// ValidateBody reports whether sig and body belong together for a request to rawURL: for a URL
// with bodySHA256, the URL's signature with no parameters and the body's hash; otherwise the
// body is parsed as a form and checked with ValidateSignature.
func ValidateBody(authToken, rawURL string, body []byte, sig string) bool {
	urls := urlVariants(rawURL)
	if want, ok := queryBodyHash(rawURL); ok {
		return newVerifier(authToken).valid(urls, nil, sig) && bodyHashMatches(body, want)
	}
	params, err := url.ParseQuery(string(body))
	if err != nil {
		return false
	}
	return newVerifier(authToken).valid(urls, params, sig)
}

// bodyHashMatches compares hex sha256(body) with want in constant time; hex case is ignored.
func bodyHashMatches(body []byte, want string) bool {
	sum := sha256.Sum256(body)
	got := hex.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(strings.ToLower(want))) == 1
}

// verifier holds a reusable HMAC for one auth token. Not safe for concurrent use.
type verifier struct {
	mac hash.Hash
}

func newVerifier(authToken string) *verifier {
	return &verifier{mac: hmac.New(sha1.New, []byte(authToken))}
}

// valid checks sig against every candidate URL without stopping at the first match, comparing in
// constant time. When a name repeats a value, both the de-duplicated (twilio-node) and the full
// form are tried.
func (v *verifier) valid(urls []string, params url.Values, sig string) bool {
	sig = strings.TrimSpace(sig)
	if sig == "" {
		return false
	}
	both := hasRepeatedValue(params)
	ok := 0
	for _, u := range urls {
		ok |= subtle.ConstantTimeCompare([]byte(signature(v.mac, u, params, true)), []byte(sig))
		if both {
			ok |= subtle.ConstantTimeCompare([]byte(signature(v.mac, u, params, false)), []byte(sig))
		}
	}
	return ok == 1
}

// target is the URL Twilio called, kept in parts so that port variants can be built without
// re-encoding the path or query: uri is the request target exactly as sent (path and query).
type target struct {
	scheme string
	host   string
	uri    string
}

func (t target) String() string { return t.scheme + "://" + t.host + t.uri }

// variants are the URL as given and with the scheme's default port added or removed.
func (t target) variants() []string {
	def := defaultPort(t.scheme)
	hostname, port := splitHostPort(t.host)
	out := []string{t.String()}
	switch {
	case def == "":
	case port == "":
		out = append(out, target{t.scheme, net.JoinHostPort(hostname, def), t.uri}.String())
	case port == def:
		out = append(out, target{t.scheme, bracketIPv6(hostname), t.uri}.String())
	}
	return out
}

// bodyHash returns the bodySHA256 query parameter when the URL carries one.
func (t target) bodyHash() (string, bool) { return queryBodyHash(t.uri) }

// queryBodyHash finds bodySHA256 in the query of s (a URL or a request target).
func queryBodyHash(s string) (string, bool) {
	_, query, found := strings.Cut(s, "?")
	if !found {
		return "", false
	}
	query, _, _ = strings.Cut(query, "#")
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", false
	}
	h := q.Get(BodyHashParam)
	return h, h != ""
}

func defaultPort(scheme string) string {
	switch strings.ToLower(scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// splitHostPort splits "host:port", "[v6]:port", "host" and "[v6]"; hostname comes back
// without brackets.
func splitHostPort(hostport string) (hostname, port string) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		return h, p
	}
	return strings.TrimSuffix(strings.TrimPrefix(hostport, "["), "]"), ""
}

func bracketIPv6(hostname string) string {
	if strings.Contains(hostname, ":") {
		return "[" + hostname + "]"
	}
	return hostname
}

// splitURL splits an absolute URL into scheme, host[:port] and the rest (path, query), without
// decoding anything.
func splitURL(raw string) (scheme, host, rest string, ok bool) {
	scheme, after, found := strings.Cut(raw, "://")
	if !found || scheme == "" {
		return "", "", "", false
	}
	end := strings.IndexAny(after, "/?#")
	if end < 0 {
		end = len(after)
	}
	host, rest = after[:end], after[end:]
	if host == "" {
		return "", "", "", false
	}
	return scheme, host, rest, true
}

// urlVariants are the port variants of an absolute URL given as a string.
func urlVariants(raw string) []string {
	scheme, host, rest, ok := splitURL(raw)
	if !ok {
		return []string{raw}
	}
	return target{scheme: scheme, host: host, uri: rest}.variants()
}
