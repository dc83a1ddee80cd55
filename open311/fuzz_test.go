package open311_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hotline12345/intake-gateway/open311"
)

var fuzzCode = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// FuzzParseForm: whatever the body, the parser does not panic, and what it accepts keeps its
// promises: a service code, a location, a description within the limit, both coordinates or
// neither, valid UTF-8 everywhere, attribute codes of the allowed shape; and the payload kept
// for audit never holds the api_key.
func FuzzParseForm(f *testing.F) {
	for _, seed := range []string{
		"api_key=k&service_code=cityscape&lat=37.5&long=122.1&description=%E8%B7%AF%E7%81%AF",
		"api_key=k&service_code=x&address_string=a&attribute[a]=1&attribute[b][]=1&attribute[b][]=2",
		"api_key=k&service_code=x&address_id=9&attribute[a=1",
		"service_code=x&lat=91&long=1",
		"api%5Fkey=secret&service_code=x&address_id=1",
		"a=%zz", "", "&&&", "lat=NaN&long=Inf", "attribute[%00]=1", "service_code=x&service_code=y",
		"description=" + strings.Repeat("a", 4001),
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, errs := open311.ParseForm(body)
		for _, e := range errs {
			if e.Field == "" || e.Reason == "" || !utf8.ValidString(e.Field) {
				t.Fatalf("an error without a valid field or reason: %+v", e)
			}
		}
		kept := open311.WithoutAPIKey(body)
		if v, err := url.ParseQuery(string(kept)); err == nil && v.Has("api_key") {
			t.Fatalf("the kept payload still holds api_key: %q", kept)
		}
		if len(errs) > 0 {
			return
		}
		if req.ServiceCode == "" {
			t.Fatal("accepted without a service_code")
		}
		if req.Lat == nil && req.AddressString == "" && req.AddressID == "" {
			t.Fatal("accepted without a location")
		}
		if (req.Lat == nil) != (req.Long == nil) {
			t.Fatal("one coordinate without the other")
		}
		if req.Lat != nil && (*req.Lat < -90 || *req.Lat > 90 || *req.Long < -180 || *req.Long > 180) {
			t.Fatalf("coordinates out of range: %v %v", *req.Lat, *req.Long)
		}
		if utf8.RuneCountInString(req.Description) > open311.MaxDescription {
			t.Fatal("description over the limit accepted")
		}
		for _, s := range []string{req.ServiceCode, req.Description, req.FirstName, req.LastName, req.AddressString, req.MediaURL} {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 accepted: %q", s)
			}
		}
		for code, vs := range req.Attributes {
			if !fuzzCode.MatchString(code) || len(vs) == 0 {
				t.Fatalf("attribute %q accepted with %d values", code, len(vs))
			}
			if !req.Multi[code] && len(vs) != 1 {
				t.Fatalf("single attribute %q with %d values", code, len(vs))
			}
		}
	})
}

// TestWithoutAPIKeyKeepsTheRestByteForByte: the audit copy drops only the credential.
func TestWithoutAPIKeyKeepsTheRestByteForByte(t *testing.T) {
	for in, want := range map[string]string{
		"api_key=s3cret&service_code=x&description=a%20b+c": "service_code=x&description=a%20b+c",
		"service_code=x&api%5Fkey=s3cret&lat=1":             "service_code=x&lat=1",
		"api_key=a&api_key=b":                               "",
		"service_code=x&api_keys=1":                         "service_code=x&api_keys=1",
	} {
		if got := string(open311.WithoutAPIKey([]byte(in))); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
