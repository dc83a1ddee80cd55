package twilio_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"

	"github.com/hotline12345/intake-gateway/channels/twilio"
)

// The test signer must reproduce twilio-node's signatures, or nothing else here means anything.
func TestVectorsSelfCheck(t *testing.T) {
	for name, v := range loadVectors(t) {
		var got string
		if name == vecJSON {
			got = sign(v.AuthToken, v.URL, nil)
			sum := sha256.Sum256([]byte(v.Body))
			if h := hex.EncodeToString(sum[:]); h != v.BodySHA || !strings.Contains(v.URL, "bodySHA256="+h) {
				t.Errorf("%s: body hash %s does not match the vector", name, h)
			}
		} else {
			got = sign(v.AuthToken, v.URL, v.values())
		}
		if got != v.Signature {
			t.Errorf("%s: test signer gives %s, twilio-node gave %s", name, got, v.Signature)
		}
	}
}

func TestValidateSignatureVectors(t *testing.T) {
	vs := loadVectors(t)
	for _, name := range []string{vecForm, vecPort, vecRepeated, vecReadme} {
		v := vs[name]
		if !twilio.ValidateSignature(v.AuthToken, v.URL, v.values(), v.Signature) {
			t.Errorf("%s: valid signature refused", name)
		}
		if got := twilio.Signature(v.AuthToken, v.URL, v.values()); got != v.Signature {
			t.Errorf("%s: Signature = %s, want %s", name, got, v.Signature)
		}
		if twilio.ValidateSignature("0"+v.AuthToken, v.URL, v.values(), v.Signature) {
			t.Errorf("%s: accepted with another auth token", name)
		}
		tampered := v.values()
		tampered.Set("To", "+15550000000")
		if twilio.ValidateSignature(v.AuthToken, v.URL, tampered, v.Signature) {
			t.Errorf("%s: accepted with a changed parameter", name)
		}
	}
}

// twilio-go's validator signs only the first value of a repeated key, which is why this package
// has its own. If twilio-go ever fixes that, this test says so.
func TestRepeatedKeyVector(t *testing.T) {
	v := loadVectors(t)[vecRepeated]
	params := v.values()
	if len(params["Tag"]) != 2 || params["Tag"][0] != "b" {
		t.Fatalf("vector changed: Tag = %v", params["Tag"])
	}
	if !twilio.ValidateSignature(v.AuthToken, v.URL, params, v.Signature) {
		t.Fatal("repeated-key signature refused")
	}
	// Only one of the values, or the values in received order, is not what Twilio signed.
	onlyFirst := v.values()
	onlyFirst["Tag"] = []string{"b"}
	if twilio.ValidateSignature(v.AuthToken, v.URL, onlyFirst, v.Signature) {
		t.Error("accepted with one Tag value dropped")
	}
	rv := client.NewRequestValidator(v.AuthToken)
	first := map[string]string{}
	for k, vals := range params {
		first[k] = vals[0]
	}
	if rv.Validate(v.URL, first, v.Signature) {
		t.Log("twilio-go now validates repeated keys; the own implementation could be dropped")
	}
	// And through the raw body, the way the adapter sees it.
	body := params.Encode()
	if !twilio.ValidateBody(v.AuthToken, v.URL, []byte(body), v.Signature) {
		t.Error("ValidateBody refused the repeated-key body")
	}
}

func TestValidateBodyJSONVector(t *testing.T) {
	v := loadVectors(t)[vecJSON]
	if !twilio.ValidateBody(v.AuthToken, v.URL, []byte(v.Body), v.Signature) {
		t.Fatal("JSON body vector refused")
	}
	if twilio.ValidateBody(v.AuthToken, v.URL, []byte(v.Body+" "), v.Signature) {
		t.Error("accepted a body that does not match bodySHA256")
	}
	other := strings.Replace(v.URL, "/sms?", "/status?", 1)
	if twilio.ValidateBody(v.AuthToken, other, []byte(v.Body), v.Signature) {
		t.Error("accepted the signature for another URL")
	}
	// The same JSON body sent to a URL without bodySHA256 is a form body, and does not match.
	if twilio.ValidateBody(v.AuthToken, strings.Split(v.URL, "?")[0], []byte(v.Body), v.Signature) {
		t.Error("accepted the JSON signature without bodySHA256 in the URL")
	}
}

func TestValidateSignaturePorts(t *testing.T) {
	params := url.Values{"MessageSid": {"SM1"}, "From": {"+8613800001234"}}
	cases := []struct {
		signedFor, checkedAt string
		want                 bool
	}{
		{"https://h.example/x", "https://h.example/x", true},
		{"https://h.example/x", "https://h.example:443/x", true},
		{"https://h.example:443/x", "https://h.example/x", true},
		{"http://h.example/x", "http://h.example:80/x", true},
		{"http://h.example:80/x", "http://h.example/x", true},
		{"https://h.example:8443/x", "https://h.example:8443/x", true},
		// A non-default port is part of the URL Twilio called and must match.
		{"https://h.example:8443/x", "https://h.example/x", false},
		{"https://h.example/x", "https://h.example:8443/x", false},
		// 80 is not https's default, nor 443 http's.
		{"https://h.example:80/x", "https://h.example/x", false},
		{"http://h.example/x", "http://h.example:443/x", false},
		{"https://h.example/x", "http://h.example/x", false},
		{"https://[2001:db8::1]/x", "https://[2001:db8::1]:443/x", true},
		{"https://[2001:db8::1]:443/x", "https://[2001:db8::1]/x", true},
		{"https://[2001:db8::1]:8443/x", "https://[2001:db8::1]/x", false},
		{"https://h.example/x?a=1&b=2", "https://h.example:443/x?a=1&b=2", true},
		{"https://h.example/x?a=1&b=2", "https://h.example/x?b=2&a=1", false},
		{"https://h.example/x", "https://h.example/y", false},
	}
	for _, c := range cases {
		sig := sign(testToken, c.signedFor, params)
		if got := twilio.ValidateSignature(testToken, c.checkedAt, params, sig); got != c.want {
			t.Errorf("signed for %s, checked at %s: got %v, want %v", c.signedFor, c.checkedAt, got, c.want)
		}
	}
}

// twilio-node drops repeated identical values; Twilio's own signer may not. Both are accepted.
func TestValidateSignatureDuplicateValues(t *testing.T) {
	u := publicBase + "/hooks/twilio/sms-main/sms"
	params := url.Values{"Tag": {"a", "b", "a"}, "From": {"+1"}}
	full := sign(testToken, u, params) // every value: TagaTagaTagb
	dedup := sign(testToken, u, url.Values{"Tag": {"a", "b"}, "From": {"+1"}})
	if full == dedup {
		t.Fatal("test is vacuous")
	}
	for _, sig := range []string{full, dedup} {
		if !twilio.ValidateSignature(testToken, u, params, sig) {
			t.Errorf("signature %s refused", sig)
		}
	}
}

func TestValidateSignatureRejectsEmpty(t *testing.T) {
	u := publicBase + "/hooks/twilio/sms-main/sms"
	if twilio.ValidateSignature(testToken, u, url.Values{}, "") || twilio.ValidateSignature(testToken, u, url.Values{}, "  ") {
		t.Error("an empty signature was accepted")
	}
}

// FuzzSignature: whatever the form body and URL, a body signed by the test signer validates,
// and the same signature fails for a changed URL or body. Never panics on garbage.
func FuzzSignature(f *testing.F) {
	f.Add("https://hotline.example.gov.cn/hooks/twilio/sms-main/sms", "MessageSid=SM1&From=%2B8613800001234&Body=%E4%BD%A0%E5%A5%BD")
	f.Add("https://h:8443/x?y=1", "Tag=b&Tag=a&Tag=b")
	f.Add("http://[::1]/x", "a=%zz&b")
	f.Add("https://h/x?bodySHA256=00", `{"a":1}`)
	f.Add("no-scheme", "")
	f.Fuzz(func(t *testing.T, rawURL, body string) {
		params, err := url.ParseQuery(body)
		sig := sign(testToken, rawURL, params)
		_ = twilio.ValidateBody(testToken, rawURL, []byte(body), sig) // must not panic
		if err != nil || strings.Contains(rawURL, "bodySHA256") || !strings.Contains(rawURL, "://") {
			return
		}
		if !twilio.ValidateSignature(testToken, rawURL, params, sig) {
			t.Fatalf("own signature refused: url %q body %q", rawURL, body)
		}
		if !twilio.ValidateBody(testToken, rawURL, []byte(body), sig) {
			t.Fatalf("ValidateBody refused: url %q body %q", rawURL, body)
		}
		if twilio.ValidateSignature(testToken, rawURL+"x", params, sig) {
			t.Fatalf("accepted for another URL: %q", rawURL)
		}
		changed := url.Values{}
		for k, v := range params {
			changed[k] = v
		}
		changed.Add("Injected", "1")
		if twilio.ValidateSignature(testToken, rawURL, changed, sig) {
			t.Fatalf("accepted with an added parameter: %q", body)
		}
	})
}
