package open311_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/coretest"
	"github.com/hotline12345/intake-gateway/internal/ratelimit"
)

// goodForm is a request every case below spoils in one way.
func goodForm() url.Values {
	return url.Values{
		"api_key": {fmsKey}, "service_code": {"environment"}, "lat": {"37.5"}, "long": {"122.1"},
		"description": {"工地夜间施工，噪音很大。"}, "attribute[pollution_kind]": {"noise"},
	}
}

func spoil(f func(url.Values)) string {
	v := goodForm()
	f(v)
	return v.Encode()
}

// TestBadInputStoresNothing: every spoiled request gets the spec's error list with its status,
// in the format asked for, naming what is wrong; and none of them stores anything, on either
// store.
func TestBadInputStoresNothing(t *testing.T) {
	cases := []struct {
		name   string
		ctype  string
		body   string
		status int
		want   string // in an error description
	}{
		{"missing service_code", "", spoil(func(v url.Values) { v.Del("service_code") }), 400, "service_code: is required"},
		{"unknown service_code", "", spoil(func(v url.Values) { v.Set("service_code", "potholes") }), 400, `service_code: unknown service "potholes"`},
		{"no location", "", spoil(func(v url.Values) { v.Del("lat"); v.Del("long") }), 400, "location: is required"},
		{"lat without long", "", spoil(func(v url.Values) { v.Del("long") }), 400, "lat: lat and long must be given together"},
		{"lat out of range", "", spoil(func(v url.Values) { v.Set("lat", "91") }), 400, "lat: must lie between -90 and 90"},
		{"lat not a number", "", spoil(func(v url.Values) { v.Set("lat", "NaN") }), 400, "lat: is not a number"},
		{"description too long", "", spoil(func(v url.Values) { v.Set("description", strings.Repeat("噪", 4001)) }), 400, "description: is 4001 characters long; the limit is 4000"},
		{"no api_key", "", spoil(func(v url.Values) { v.Del("api_key") }), 403, "api_key: is required"},
		{"bad api_key", "", spoil(func(v url.Values) { v.Set("api_key", "guess") }), 403, "api_key: is not valid"},
		{"api_key without submit", "", spoil(func(v url.Values) { v.Set("api_key", readerKey) }), 403, "api_key: may not submit requests"},
		{"bad api_key hides the other errors", "", spoil(func(v url.Values) { v.Set("api_key", "guess"); v.Del("service_code") }), 403, "api_key: is not valid"},
		{"malformed attribute: unclosed", "", goodForm().Encode() + "&attribute%5Bpollution_kind=noise", 400, "is a malformed attribute field"},
		{"malformed attribute: nested", "", goodForm().Encode() + "&attribute%5Ba%5D%5Bb%5D=1", 400, "is a malformed attribute field"},
		{"malformed attribute: empty code", "", goodForm().Encode() + "&attribute%5B%5D=1", 400, "is a malformed attribute field"},
		{"attribute value not in the list", "", spoil(func(v url.Values) { v.Set("attribute[pollution_kind]", "smell") }), 400, `attribute[pollution_kind]: "smell" is not one of its values`},
		{"attribute given twice", "", goodForm().Encode() + "&attribute%5Bpollution_kind%5D=smoke", 400, "attribute[pollution_kind]: is given more than once"},
		{"required attribute missing", "", spoil(func(v url.Values) { v.Set("service_code", "utilities"); v.Del("attribute[pollution_kind]") }), 400, "attribute[address_detail]: is required for service utilities"},
		{"single field given twice", "", goodForm().Encode() + "&service_code=transport", 400, "service_code: is given more than once"},
		{"media_url javascript", "", spoil(func(v url.Values) { v.Set("media_url", "javascript:alert(1)") }), 400, "media_url: must be an http or https URL"},
		{"media_url relative", "", spoil(func(v url.Values) { v.Set("media_url", "/photo.jpg") }), 400, "media_url: must be an absolute http or https URL"},
		{"not UTF-8", "", goodForm().Encode() + "&first_name=%C0%AF", 400, "first_name: is not valid UTF-8"},
		{"raw bytes not UTF-8", "", goodForm().Encode() + "&first_name=\xff", 400, "body: is not valid UTF-8"},
		{"bad escape", "", goodForm().Encode() + "&first_name=%zz", 400, "body: is not a valid application/x-www-form-urlencoded form"},
		{"JSON body", "application/json", `{"service_code":"environment"}`, 400, "Content-Type must be application/x-www-form-urlencoded"},
		{"another charset", "application/x-www-form-urlencoded; charset=gbk", goodForm().Encode(), 400, "the form must be UTF-8"},
		{"too large", "", goodForm().Encode() + "&x=" + strings.Repeat("a", 70<<10), 400, "the body is larger than 65536 bytes"},
		{"another jurisdiction", "", spoil(func(v url.Values) { v.Set("jurisdiction_id", "other.example") }), 404, "jurisdiction_id: unknown jurisdiction"},
	}
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		for i, tc := range cases {
			format := []string{"xml", "json"}[i%2]
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				ctype := tc.ctype
				if ctype == "" {
					ctype = "application/x-www-form-urlencoded"
				}
				res := e.do(t, "POST", "/open311/v2/requests."+format, ctype, tc.body)
				if res.status != tc.status {
					t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
				}
				descs := errorDescriptions(t, format, res)
				found := false
				for _, d := range descs {
					if strings.Contains(d, tc.want) {
						found = true
					}
				}
				if !found {
					t.Fatalf("errors %q do not say %q", descs, tc.want)
				}
				if strings.Contains(res.body, fmsKey) {
					t.Fatal("an error repeats the api_key")
				}
			})
		}
		if n := len(e.cases(t)); n != 0 {
			t.Fatalf("refused requests stored %d cases", n)
		}
		if ups, err := e.core.Store.StatusUpdates(context.Background(), intake.UpdateQuery{}); err != nil || len(ups) != 0 {
			t.Fatalf("refused requests left history: %v %v", ups, err)
		}
		// The same request unspoiled is accepted: the table's refusals are each its own fault.
		if res := e.postForm(t, "/open311/v2/requests.json", goodForm().Encode()); res.status != 200 {
			t.Fatalf("the good form: %d %s", res.status, res.body)
		}
	})
}

// errorDescriptions reads the spec's error list, checking that every code is the HTTP status.
func errorDescriptions(t *testing.T, format string, res response) []string {
	t.Helper()
	type entry struct {
		Code        int    `xml:"code" json:"code"`
		Description string `xml:"description" json:"description"`
	}
	var list []entry
	if format == "json" {
		if err := json.Unmarshal([]byte(res.body), &list); err != nil {
			t.Fatalf("error list: %v: %s", err, res.body)
		}
	} else {
		var x struct {
			XMLName xml.Name `xml:"errors"`
			Errors  []entry  `xml:"error"`
		}
		if err := xml.Unmarshal([]byte(res.body), &x); err != nil {
			t.Fatalf("error list: %v: %s", err, res.body)
		}
		list = x.Errors
	}
	if len(list) == 0 {
		t.Fatalf("empty error list: %s", res.body)
	}
	var out []string
	for _, e := range list {
		if e.Code != res.status {
			t.Fatalf("error code %d in a %d answer", e.Code, res.status)
		}
		out = append(out, e.Description)
	}
	return out
}

// TestReadErrors: the GET side's refusals: unknown resources and formats, bad filters, another
// channel's case.
func TestReadErrors(t *testing.T) {
	e := newEnv(t, coretest.SQLite)
	for _, tc := range []struct {
		path   string
		status int
		want   string
	}{
		{"/open311/v2/services.yaml", 404, "add .xml or .json"},
		{"/open311/v2/services", 404, "add .xml or .json"},
		{"/open311/v2/tokens/abc.json", 404, "unknown resource"},
		{"/open311/v2/services/nope.json", 404, "service_code: unknown service"},
		{"/open311/v2/requests/WH2026120400099.json", 404, "no such request"},
		{"/open311/v2/requests.json?start_date=2026-01-01", 400, "start_date: must be a W3C date and time"},
		{"/open311/v2/requests.json?start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", 400, "at most 90 days"},
		{"/open311/v2/requests.json?start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", 400, "end_date: is before start_date"},
		{"/open311/v2/requests.json?status=pending", 400, "status: must be open, closed or both"},
		{"/open311/v2/requests.json?service_code=a&service_code=b", 400, "service_code: is given more than once"},
		{"/open311/v2/requests.json?jurisdiction_id=elsewhere", 404, "unknown jurisdiction"},
		{"/open311/v2/servicerequestupdates.json?start_date=yesterday", 400, "start_date: must be a W3C"},
	} {
		res := e.read(t, tc.path)
		format := "xml"
		if strings.Contains(tc.path, ".json") {
			format = "json"
		}
		if res.status != tc.status {
			t.Fatalf("%s: %d, want %d: %s", tc.path, res.status, tc.status, res.body)
		}
		if d := strings.Join(errorDescriptions(t, format, res), "; "); !strings.Contains(d, tc.want) {
			t.Fatalf("%s: %q does not say %q", tc.path, d, tc.want)
		}
	}
	if res := e.do(t, "DELETE", "/open311/v2/requests.json", "", ""); res.status != 405 {
		t.Fatalf("DELETE: %d", res.status)
	}
}

// TestKeyRateLimit: a key past its rate is answered 429 with Retry-After in the spec's format,
// as it would be on the REST API, and the request is not stored.
func TestKeyRateLimit(t *testing.T) {
	e := newEnvLimited(t, coretest.SQLite, ratelimit.New(ratelimit.Limit{Rate: 0.001, Burst: 2}, 100, nil))
	for i := range 2 {
		form := spoil(func(v url.Values) { v.Set("description", fmt.Sprintf("第%d件：工地夜间施工。", i)) })
		if res := e.postForm(t, "/open311/v2/requests.json", form); res.status != 200 {
			t.Fatalf("request %d within the burst: %d %s", i, res.status, res.body)
		}
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/open311/v2/requests.xml", strings.NewReader(spoil(func(v url.Values) { v.Set("description", "第3件") })))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" {
		t.Fatalf("past the rate: %d, Retry-After %q", res.StatusCode, res.Header.Get("Retry-After"))
	}
	if n := len(e.cases(t)); n != 2 {
		t.Fatalf("%d cases, want the 2 within the rate", n)
	}
}
