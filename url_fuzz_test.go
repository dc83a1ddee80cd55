package intake

import (
	"net/url"
	"strings"
	"testing"
)

// ForeignScheme never calls a URL that Go parses as http(s) foreign, and never lets one that
// Go parses with another scheme through.
func FuzzForeignScheme(f *testing.F) {
	for _, s := range []string{"https://a.example/x", "file:///etc/passwd", " javascript:alert(1)", "java\tscript:x", "not a url", "/v1/attachments/x", "HTTP://x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		foreign := ForeignScheme(raw)
		u, err := url.Parse(raw)
		if err != nil || u.Scheme == "" {
			return
		}
		isHTTP := strings.EqualFold(u.Scheme, "http") || strings.EqualFold(u.Scheme, "https")
		if isHTTP && foreign {
			t.Fatalf("%q: an http(s) URL called foreign", raw)
		}
		if !isHTTP && !foreign {
			t.Fatalf("%q: scheme %q let through", raw, u.Scheme)
		}
	})
}
