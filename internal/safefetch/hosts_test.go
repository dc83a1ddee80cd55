package safefetch

import (
	"net/url"
	"testing"
)

func TestHostsAllows(t *testing.T) {
	h := MustHosts("api.twilio.com", "*.twiliocdn.com", "media.example.gov.cn:8443", "203.0.113.7", "[2001:db8::1]:443", "API.Weixin.QQ.com.")
	for _, tc := range []struct {
		url   string
		allow bool
	}{
		{"https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1", true},
		{"https://API.TWILIO.COM./x", true},
		{"https://api.twilio.com:8443/x", true}, // no port in the entry: any port
		{"https://evil.api.twilio.com/x", false},
		{"https://api.twilio.com.evil.example/x", false},
		{"https://twilio.com/x", false},
		{"https://mms.twiliocdn.com/AC1/abc", true},
		{"https://a.b.twiliocdn.com/x", true},
		{"https://twiliocdn.com/x", false}, // the wildcard is for names below it
		{"https://eviltwiliocdn.com/x", false},
		{"https://twiliocdn.com.evil.example/x", false},
		{"https://media.example.gov.cn:8443/r.mp3", true},
		{"https://media.example.gov.cn/r.mp3", false}, // port 443 is not 8443
		{"http://203.0.113.7/x", true},
		{"http://[::ffff:203.0.113.7]/x", true}, // the same address, written mapped
		{"https://[2001:db8::1]/x", true},
		{"https://[2001:db8::1]:8443/x", false},
		{"https://api.weixin.qq.com/cgi-bin/media/get", true},
		{"https://127.0.0.1/x", false},
		{"https:///x", false},
	} {
		u, err := url.Parse(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := h.Allows(u); got != tc.allow {
			t.Errorf("Allows(%s) = %v, want %v", tc.url, got, tc.allow)
		}
	}
	if (Hosts{}).Allows(&url.URL{Scheme: "https", Host: "api.twilio.com"}) {
		t.Error("the empty list allows a host")
	}
}

func TestHostPatterns(t *testing.T) {
	for _, p := range []string{"api.twilio.com", "*.twiliocdn.com", "127.0.0.1:8080", "[::1]:9000", "::1", "[2001:db8::1]", "xn--fiqs8s.example", "localhost"} {
		if err := CheckHostPattern(p); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
	for _, p := range []string{"", " ", "*", "*.com", "*.", "a.*.example", "https://api.twilio.com", "api.twilio.com/x", "user@host",
		"host:0", "host:65536", "host:08", "host:http", "-bad.example", "bad-.example", "a..b", "例子.中国", "fe80::1%eth0"} {
		if err := CheckHostPattern(p); err == nil {
			t.Errorf("%q accepted", p)
		}
	}
	if !IsExactHost("api.twilio.com") || !IsExactHost("127.0.0.1:443") || IsExactHost("*.twilio.com") || IsExactHost("bad host") {
		t.Error("IsExactHost")
	}
}

func TestHostsContains(t *testing.T) {
	media := MustHosts("api.twilio.com", "*.twiliocdn.com", "127.0.0.1")
	for _, tc := range []struct {
		creds []string
		in    bool
	}{
		{[]string{"api.twilio.com"}, true},
		{[]string{"mms.twiliocdn.com"}, true},
		{[]string{"127.0.0.1:4000"}, true},
		{[]string{"api.twilio.com", "evil.example"}, false},
		{[]string{"*.twiliocdn.com"}, true},
		{[]string{"*.twilio.com"}, false},
		{nil, true},
	} {
		if got := media.Contains(MustHosts(tc.creds...)); got != tc.in {
			t.Errorf("Contains(%v) = %v, want %v", tc.creds, got, tc.in)
		}
	}
	if MustHosts("api.twilio.com:443").Contains(MustHosts("api.twilio.com")) {
		t.Error("a port-bound entry contains the same host on any port")
	}
}
