package twilio_test

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The reference vectors, posted through the adapter exactly as Twilio would post them.
func TestVectorsThroughAdapter(t *testing.T) {
	vs := loadVectors(t)

	t.Run("form body", func(t *testing.T) {
		v := vs[vecForm]
		e, rcv := newServer(t, setup{})
		rec := post(e, smsPath, v.values().Encode(), v.Signature)
		if rec.Code != 200 {
			t.Fatalf("status %d %s", rec.Code, rec.Body)
		}
		sub := rcv.received()[0].Submission
		if sub.Citizen.Name != "李女士" || sub.Text != "路灯坏了" || sub.Location.Address != "环翠区" {
			t.Errorf("structured form not parsed: %+v", sub)
		}
	})

	t.Run("explicit port", func(t *testing.T) {
		v := vs[vecPort]
		e, rcv := newServer(t, setup{server: serverCfg{PublicBaseURL: "https://hotline.example.gov.cn:8443"}})
		if rec := post(e, smsPath, v.values().Encode(), v.Signature); rec.Code != 200 {
			t.Fatalf("status %d %s", rec.Code, rec.Body)
		}
		// Configured without the port, the URL differs from the one signed.
		e2, _ := newServer(t, setup{})
		if rec := post(e2, smsPath, v.values().Encode(), v.Signature); rec.Code != 403 {
			t.Errorf("signature for :8443 accepted at the default port: %d", rec.Code)
		}
		if len(rcv.received()) != 1 {
			t.Error("not passed on")
		}
	})

	t.Run("repeated key", func(t *testing.T) {
		v := vs[vecRepeated]
		e, rcv := newServer(t, setup{})
		// Tag=b before Tag=a, as in the vector; the signature holds, so the request gets as far
		// as field checks, where MediaUrl0 with NumMedia=0 is refused.
		rec := post(e, smsPath, v.values().Encode(), v.Signature)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), "MediaUrl0 disagrees with NumMedia=0") {
			t.Fatalf("status %d %s", rec.Code, rec.Body)
		}
		// Without the stray media field (re-signed), the repeated Tag passes.
		p := v.values()
		p.Del("MediaUrl0")
		body := "Tag=b&" + p.Encode()
		rec = post(e, smsPath, body, signBody(t, testToken, publicBase+smsPath, body))
		if rec.Code != 200 {
			t.Fatalf("status %d %s", rec.Code, rec.Body)
		}
		if len(rcv.received()) != 1 {
			t.Error("not passed on")
		}
		// Dropping one Tag value breaks the vector's signature.
		if rec := post(e, smsPath, strings.Replace(v.values().Encode(), "Tag=b&", "", 1), v.Signature); rec.Code != 403 {
			t.Errorf("dropped value accepted: %d", rec.Code)
		}
	})

	t.Run("JSON body with bodySHA256", func(t *testing.T) {
		v := vs[vecJSON]
		u, _ := url.Parse(v.URL)
		e, rcv := newServer(t, setup{})
		target := u.RequestURI()
		ct := func(r *http.Request) { r.Header.Set("Content-Type", "application/json") }
		// Signature and body hash hold; the body is a transcription, not an SMS, so the SMS
		// route refuses it for its fields.
		rec := post(e, target, v.Body, v.Signature, ct)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), "MessageSid is required") {
			t.Fatalf("status %d %s", rec.Code, rec.Body)
		}
		// One byte changed: the hash no longer matches.
		rec = post(e, target, strings.Replace(v.Body, "CA1", "CA2", 1), v.Signature, ct)
		if rec.Code != 403 || !strings.Contains(rec.Body.String(), "bodySHA256") {
			t.Fatalf("tampered JSON: status %d %s", rec.Code, rec.Body)
		}
		// A JSON SMS signed the same way is accepted.
		body := `{"MessageSid":"SM0123456789abcdef0123456789abcdef","From":"+8613800001234","Body":"路灯坏了","NumMedia":"0","Tag":["b","a"],"Extra":null}`
		jsonURL := publicBase + smsPath + "?bodySHA256=" + sha256Hex(body)
		jsonTarget := smsPath + "?bodySHA256=" + sha256Hex(body)
		rec = post(e, jsonTarget, body, sign(testToken, jsonURL, nil), ct)
		if rec.Code != 200 {
			t.Fatalf("JSON SMS: status %d %s", rec.Code, rec.Body)
		}
		sub := rcv.received()[0].Submission
		if sub.Text != "路灯坏了" || string(sub.Raw.Body) != body || sub.Raw.ContentType != "application/json" || sub.PayloadHash != sha256Hex(body) {
			t.Errorf("submission = %+v", sub)
		}
		// Correctly signed, but Body given twice: which one is the message depends on the reader.
		dup := `{"MessageSid":"SM0123456789abcdef0123456789abcdee","From":"+8613800001234","Body":"路灯坏了","Body":"别的内容","NumMedia":"0"}`
		dupURL := publicBase + smsPath + "?bodySHA256=" + sha256Hex(dup)
		rec = post(e, smsPath+"?bodySHA256="+sha256Hex(dup), dup, sign(testToken, dupURL, nil), ct)
		if rec.Code != 400 || !strings.Contains(rec.Body.String(), "appears twice") || len(rcv.received()) != 1 {
			t.Fatalf("duplicate member: status %d %s", rec.Code, rec.Body)
		}
	})
}

// Behind a proxy: Twilio calls https://hotline.example.gov.cn…, the proxy forwards plain http to
// gateway:8080 from 10.0.0.5 with X-Forwarded-* headers.
func TestBehindProxy(t *testing.T) {
	const outside = "https://hotline.example.gov.cn"
	proxy := serverCfg{TrustedProxies: []string{"10.0.0.0/8", "::1/128"}}
	from := func(addr string) func(*http.Request) { return func(r *http.Request) { r.RemoteAddr = addr } }
	hdr := func(kv ...string) func(*http.Request) {
		return func(r *http.Request) {
			for i := 0; i < len(kv); i += 2 {
				r.Header.Set(kv[i], kv[i+1])
			}
		}
	}
	cases := []struct {
		name      string
		server    serverCfg
		signedFor string
		target    string
		mods      []func(*http.Request)
		want      int
	}{
		{"https outside, http inside", proxy, outside + smsPath, smsPath,
			[]func(*http.Request){from("10.0.0.5:51000"), hdr("X-Forwarded-Proto", "https", "X-Forwarded-Host", "hotline.example.gov.cn")}, 200},
		{"forwarded host with a port", proxy, outside + ":8443" + smsPath, smsPath,
			[]func(*http.Request){from("10.0.0.5:51000"), hdr("X-Forwarded-Proto", "https", "X-Forwarded-Host", "hotline.example.gov.cn:8443")}, 200},
		{"X-Forwarded-Port", proxy, outside + ":8443" + smsPath, smsPath,
			[]func(*http.Request){from("10.0.0.5:51000"), hdr("X-Forwarded-Proto", "https", "X-Forwarded-Host", "hotline.example.gov.cn", "X-Forwarded-Port", "8443")}, 200},
		{"default port forwarded, signed without", proxy, outside + smsPath, smsPath,
			[]func(*http.Request){from("10.0.0.5:51000"), hdr("X-Forwarded-Proto", "https", "X-Forwarded-Host", "hotline.example.gov.cn:443")}, 200},
		{"signed with default port, forwarded without", proxy, outside + ":443" + smsPath, smsPath,
			[]func(*http.Request){from("10.0.0.5:51000"), hdr("X-Forwarded-Proto", "https", "X-Forwarded-Host", "hotline.example.gov.cn")}, 200},
		{"chain of proxies: first value counts", proxy, outside + smsPath, smsPath,
			[]func(*http.Request){from("10.0.0.5:51000"), hdr("X-Forwarded-Proto", "https, http", "X-Forwarded-Host", "hotline.example.gov.cn, lb.internal")}, 200},
		{"query string kept", proxy, outside + smsPath + "?city=weihai&v=2", smsPath + "?city=weihai&v=2",
			[]func(*http.Request){from("10.0.0.5:51000"), hdr("X-Forwarded-Proto", "https", "X-Forwarded-Host", "hotline.example.gov.cn")}, 200},
		{"IPv6 loopback proxy", proxy, outside + smsPath, smsPath,
			[]func(*http.Request){from("[::1]:51000"), hdr("X-Forwarded-Proto", "https", "X-Forwarded-Host", "hotline.example.gov.cn")}, 200},
		{"IPv4-mapped peer", proxy, outside + smsPath, smsPath,
			[]func(*http.Request){from("[::ffff:10.0.0.5]:51000"), hdr("X-Forwarded-Proto", "https", "X-Forwarded-Host", "hotline.example.gov.cn")}, 200},
		// The same headers from anyone else are ignored: the URL is the request's own.
		{"untrusted peer's headers ignored", proxy, outside + smsPath, smsPath,
			[]func(*http.Request){from("203.0.113.9:51000"), hdr("X-Forwarded-Proto", "https", "X-Forwarded-Host", "hotline.example.gov.cn")}, 403},
		{"untrusted peer, request's own URL", proxy, "http://gateway:8080" + smsPath, smsPath,
			[]func(*http.Request){from("203.0.113.9:51000"), hdr("X-Forwarded-Proto", "https", "X-Forwarded-Host", "hotline.example.gov.cn")}, 200},
		{"no proxies configured", serverCfg{}, outside + smsPath, smsPath,
			[]func(*http.Request){from("10.0.0.5:51000"), hdr("X-Forwarded-Proto", "https", "X-Forwarded-Host", "hotline.example.gov.cn")}, 403},
		{"trusted proxy, inside URL signed", proxy, "http://gateway:8080" + smsPath, smsPath,
			[]func(*http.Request){from("10.0.0.5:51000"), hdr("X-Forwarded-Proto", "https", "X-Forwarded-Host", "hotline.example.gov.cn")}, 403},
		{"proto only", proxy, "https://gateway:8080" + smsPath, smsPath,
			[]func(*http.Request){from("10.0.0.5:51000"), hdr("X-Forwarded-Proto", "https")}, 200},
		{"junk forwarded host ignored", proxy, "https://gateway:8080" + smsPath, smsPath,
			[]func(*http.Request){from("10.0.0.5:51000"), hdr("X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.example/x?")}, 200},
		{"TLS terminated by the gateway", serverCfg{}, "https://gateway:8080" + smsPath, smsPath,
			[]func(*http.Request){func(r *http.Request) { r.TLS = &tls.ConnectionState{} }}, 200},
		// A configured public URL wins over the headers, even from a trusted proxy.
		{"public base URL wins", serverCfg{PublicBaseURL: outside, TrustedProxies: proxy.TrustedProxies}, outside + smsPath, smsPath,
			[]func(*http.Request){from("10.0.0.5:51000"), hdr("X-Forwarded-Proto", "http", "X-Forwarded-Host", "other.example")}, 200},
		{"public base URL with a path prefix", serverCfg{PublicBaseURL: outside + "/gateway/"}, outside + "/gateway" + smsPath, smsPath, nil, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, rcv := newServer(t, setup{server: c.server, noBase: true})
			rec := post(e, c.target, bodyPlain, signBody(t, testToken, c.signedFor, bodyPlain), c.mods...)
			if rec.Code != c.want {
				t.Fatalf("status %d (%s), want %d", rec.Code, rec.Body, c.want)
			}
			if got := len(rcv.received()); (c.want == 200) != (got == 1) {
				t.Errorf("receiver got %d messages", got)
			}
		})
	}
}

// A per-channel public_base_url overrides the server's.
func TestChannelPublicBaseURL(t *testing.T) {
	const sms2 = "https://sms.weihai.example"
	e, _ := newServer(t, setup{settings: map[string]any{"public_base_url": sms2}})
	if rec := post(e, smsPath, bodyPlain, signBody(t, testToken, sms2+smsPath, bodyPlain)); rec.Code != 200 {
		t.Fatalf("status %d %s", rec.Code, rec.Body)
	}
	if rec := post(e, smsPath, bodyPlain, signBody(t, testToken, publicBase+smsPath, bodyPlain)); rec.Code != 403 {
		t.Fatalf("server URL accepted for a channel with its own: %d", rec.Code)
	}
}
