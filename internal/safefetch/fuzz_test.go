package safefetch

import (
	"net/url"
	"strings"
	"testing"
)

// Whatever the config or a URL holds, parsing never panics, a valid pattern survives its own
// String form, and a URL the policy passes is an absolute http(s) URL without user
// information whose host the list allows.
func FuzzHostsAndCheckURL(f *testing.F) {
	for _, s := range [][2]string{
		{"api.twilio.com", "https://api.twilio.com/2010-04-01/x"},
		{"*.twiliocdn.com", "https://mms.twiliocdn.com/a"},
		{"127.0.0.1:8080", "http://127.0.0.1:8080/x"},
		{"[::1]:9000", "http://[::ffff:127.0.0.1]:9000/"},
		{"a.example", "https://user:pw@a.example/"},
		{"a.example", "file:///etc/passwd"},
		{"*.a.example", "https://A.EXAMPLE./"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, raw string) {
		h, err := ParseHosts([]string{pattern})
		if err != nil {
			return
		}
		again, err := ParseHosts(strings.Split(h.String(), ", "))
		if err != nil || again.String() != h.String() {
			t.Fatalf("%q → %q does not parse back the same: %v", pattern, h.String(), err)
		}
		u, err := url.Parse(raw)
		if err != nil {
			return
		}
		p := Policy{Hosts: h, AllowHTTP: true}
		if p.CheckURL(u) != nil {
			return
		}
		if s := strings.ToLower(u.Scheme); (s != "http" && s != "https") || u.Host == "" || u.User != nil || !h.Allows(u) {
			t.Fatalf("%q passed for %q", raw, pattern)
		}
	})
}
