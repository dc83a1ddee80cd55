package open311_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/internal/coretest"
)

// The element names of the GeoReport v2 examples, in the spec's order. XML is the spec's
// primary format; JSON is derived from it (an object per element, a list as an array).
var (
	specService    = []string{"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
	specDefinition = []string{"service_code", "attributes"}
	specAttribute  = []string{"variable", "code", "datatype", "required", "datatype_description", "order", "description", "values"}
	specValue      = []string{"key", "name"}
	specCreated    = []string{"service_request_id", "service_notice", "account_id"}
	specRequest    = []string{"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
		"agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "address",
		"address_id", "zipcode", "lat", "long", "media_url"}
	specError     = []string{"code", "description"}
	specDiscovery = []string{"changeset", "contact", "key_service", "endpoints"}
	specEndpoint  = []string{"specification", "url", "changeset", "type", "formats"}
	// mySociety's extension as FixMyStreet reads it.
	specUpdate = []string{"update_id", "service_request_id", "status", "updated_datetime", "description", "media_url", "external_status_code"}
)

// node is a parsed XML element.
type node struct {
	name     string
	text     string
	children []*node
}

func parseXML(t *testing.T, body string) *node {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(body))
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			n := &node{name: tk.Name.Local}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tk)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if root == nil || !strings.HasPrefix(body, `<?xml version="1.0" encoding="UTF-8"?>`) {
		t.Fatalf("not an XML document with a UTF-8 declaration: %s", body)
	}
	return root
}

func (n *node) names() []string {
	var out []string
	for _, c := range n.children {
		out = append(out, c.name)
	}
	return out
}

func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

// wantOrder checks that got lists want's names in want's order, with optional ones absent.
func wantOrder(t *testing.T, what string, got, want []string, optional ...string) {
	t.Helper()
	var exp []string
	for _, w := range want {
		if slices.Contains(got, w) || !slices.Contains(optional, w) {
			exp = append(exp, w)
		}
	}
	if !slices.Equal(got, exp) {
		t.Fatalf("%s: elements %v, want %v", what, got, exp)
	}
}

func wantKeys(t *testing.T, what string, obj map[string]any, want []string, optional ...string) {
	t.Helper()
	var got []string
	for k := range obj {
		got = append(got, k)
	}
	sort.Strings(got)
	var exp []string
	for _, w := range want {
		if _, ok := obj[w]; ok || !slices.Contains(optional, w) {
			exp = append(exp, w)
		}
	}
	sort.Strings(exp)
	if !slices.Equal(got, exp) {
		t.Fatalf("%s: keys %v, want %v", what, got, exp)
	}
}

func jsonList(t *testing.T, res response) []map[string]any {
	t.Helper()
	if res.ctype != "application/json; charset=utf-8" {
		t.Fatalf("Content-Type %q", res.ctype)
	}
	var out []map[string]any
	if err := json.Unmarshal([]byte(res.body), &out); err != nil {
		t.Fatalf("not a JSON array of objects: %v: %s", err, res.body)
	}
	return out
}

func xmlRoot(t *testing.T, res response, root string) *node {
	t.Helper()
	if res.ctype != "text/xml; charset=utf-8" {
		t.Fatalf("Content-Type %q", res.ctype)
	}
	n := parseXML(t, res.body)
	if n.name != root {
		t.Fatalf("root <%s>, want <%s>", n.name, root)
	}
	return n
}

// TestResponsesFollowTheSpecExamples: every resource in both formats has the elements of the
// spec's examples, in the spec's order (XML), codes as strings (JSON), timestamps with a zone.
func TestResponsesFollowTheSpecExamples(t *testing.T) {
	e := newEnv(t, coretest.SQLite)

	// discovery
	res := e.get(t, "/open311/v2/discovery.xml")
	d := xmlRoot(t, res, "discovery")
	wantOrder(t, "discovery", d.names(), specDiscovery)
	ep := d.child("endpoints").child("endpoint")
	wantOrder(t, "endpoint", ep.names(), specEndpoint)
	if ep.child("url").text != "https://12345.example.gov.cn/open311/v2" || ep.child("specification").text != "http://wiki.open311.org/GeoReport_v2" ||
		ep.child("changeset").text != "2026-12-04T09:30:00+08:00" || len(ep.child("formats").children) != 2 {
		t.Fatalf("endpoint: %s", res.body)
	}
	var dj map[string]any
	if err := json.Unmarshal([]byte(e.get(t, "/open311/v2/discovery.json").body), &dj); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, "discovery.json", dj, specDiscovery)

	// services
	res = e.get(t, "/open311/v2/services.xml")
	sv := xmlRoot(t, res, "services")
	if len(sv.children) != len(services(t)) {
		t.Fatalf("%d services, want every category (%d)", len(sv.children), len(services(t)))
	}
	for _, s := range sv.children {
		wantOrder(t, "service", s.names(), specService)
	}
	first := sv.children[0]
	if first.child("service_code").text != "consumer" || first.child("service_name").text != "消费维权" || first.child("group").text != "市场监管" ||
		first.child("type").text != "realtime" || first.child("metadata").text != "false" || first.child("keywords").text == "" {
		t.Fatalf("first service: %s", res.body)
	}
	list := jsonList(t, e.get(t, "/open311/v2/services.json"))
	byCode := map[string]map[string]any{}
	for _, s := range list {
		wantKeys(t, "service.json", s, specService)
		code, ok := s["service_code"].(string)
		if !ok {
			t.Fatalf("service_code must be a JSON string: %v", s["service_code"])
		}
		byCode[code] = s
	}
	if byCode["utilities"]["metadata"] != true || byCode["transport"]["metadata"] != false {
		t.Fatalf("metadata says whether a definition has attributes: %v %v", byCode["utilities"], byCode["transport"])
	}

	// a service definition
	res = e.get(t, "/open311/v2/services/environment.xml")
	def := xmlRoot(t, res, "service_definition")
	wantOrder(t, "service_definition", def.names(), specDefinition)
	attr := def.child("attributes").child("attribute")
	wantOrder(t, "attribute", attr.names(), specAttribute)
	if attr.child("code").text != "pollution_kind" || attr.child("datatype").text != "singlevaluelist" || attr.child("variable").text != "true" ||
		attr.child("order").text != "1" || len(attr.child("values").children) != 5 {
		t.Fatalf("attribute: %s", res.body)
	}
	wantOrder(t, "value", attr.child("values").children[0].names(), specValue)
	var dfj map[string]any
	if err := json.Unmarshal([]byte(e.get(t, "/open311/v2/services/utilities.json").body), &dfj); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, "definition.json", dfj, specDefinition)
	a0 := dfj["attributes"].([]any)[0].(map[string]any)
	wantKeys(t, "attribute.json", a0, specAttribute)
	if a0["required"] != true || a0["code"] != "address_detail" {
		t.Fatalf("utilities attribute: %v", a0)
	}

	// POST requests: the spec's example form, with this hotline's codes
	form := url.Values{
		"api_key": {fmsKey}, "jurisdiction_id": {"12345.example.gov.cn"}, "service_code": {"utilities"},
		"lat": {"37.76524078"}, "long": {"122.4212043"}, "address_string": {"幸福小区3号楼"},
		"email": {"smith@example.com"}, "device_id": {"tt222111"}, "account_id": {"123456"},
		"first_name": {"john"}, "last_name": {"smith"}, "phone": {"111111111"},
		"description": {"小区停水两天了，没有任何通知。"}, "media_url": {"http://www.city.example/images/pipe.jpg"},
		"attribute[address_detail]": {"3号楼2单元"}, "attribute[WHISETN]": {"123"}, "attribute[FOOBAR][]": {"1", "2"},
	}
	res = e.postForm(t, "/open311/v2/requests.xml", form.Encode())
	cr := xmlRoot(t, res, "service_requests")
	wantOrder(t, "POST request", cr.child("request").names(), specCreated)
	id := cr.child("request").child("service_request_id").text
	if cr.child("request").child("account_id").text != "123456" {
		t.Fatalf("account_id is echoed: %s", res.body)
	}
	form.Set("description", "另一条：小区停水两天了。")
	form.Del("account_id")
	created := jsonList(t, e.postForm(t, "/open311/v2/requests.json", form.Encode()))
	if len(created) != 1 {
		t.Fatalf("POST json: %v", created)
	}
	wantKeys(t, "POST request.json", created[0], specCreated, "account_id")

	// GET requests/{id} and GET requests
	res = e.read(t, "/open311/v2/requests/"+id+".xml")
	rq := xmlRoot(t, res, "service_requests").child("request")
	wantOrder(t, "request", rq.names(), specRequest)
	for _, ts := range []string{"requested_datetime", "updated_datetime", "expected_datetime"} {
		if !strings.HasSuffix(rq.child(ts).text, "+08:00") {
			t.Fatalf("%s %q carries no zone", ts, rq.child(ts).text)
		}
	}
	reqs := jsonList(t, e.read(t, "/open311/v2/requests.json"))
	if len(reqs) != 2 {
		t.Fatalf("GET requests: %d", len(reqs))
	}
	for _, r := range reqs {
		wantKeys(t, "request.json", r, specRequest)
		if _, ok := r["lat"].(float64); !ok {
			t.Fatalf("lat must be a JSON number: %v", r["lat"])
		}
	}

	// servicerequestupdates
	e.report(t, id, "ev-1", "accepted", "市水务集团", "", e.clock.Now())
	res = e.read(t, "/open311/v2/servicerequestupdates.xml")
	up := xmlRoot(t, res, "service_request_updates")
	if len(up.children) != 1 || up.children[0].name != "request_update" {
		t.Fatalf("updates: %s", res.body)
	}
	wantOrder(t, "request_update", up.children[0].names(), specUpdate)
	if up.children[0].child("status").text != "investigating" || up.children[0].child("description").text != "已签收" {
		t.Fatalf("an event without a message is described by its status name: %s", res.body)
	}
	for _, u := range jsonList(t, e.read(t, "/open311/v2/servicerequestupdates.json")) {
		wantKeys(t, "request_update.json", u, specUpdate)
	}

	// errors
	res = e.read(t, "/open311/v2/requests/WH2099010100001.xml")
	if res.status != 404 {
		t.Fatalf("unknown request: %d", res.status)
	}
	er := xmlRoot(t, res, "errors")
	wantOrder(t, "error", er.child("error").names(), specError)
	if er.child("error").child("code").text != "404" {
		t.Fatalf("error code: %s", res.body)
	}
	for _, x := range jsonList(t, e.get(t, "/open311/v2/services/nope.json")) {
		wantKeys(t, "error.json", x, specError)
		if x["code"] != float64(404) {
			t.Fatalf("error code: %v", x)
		}
	}
}

// updateEntry is one request_update, in either format.
type updateEntry struct {
	UpdateID         string `xml:"update_id" json:"update_id"`
	ServiceRequestID string `xml:"service_request_id" json:"service_request_id"`
	Status           string `xml:"status" json:"status"`
	UpdatedDatetime  string `xml:"updated_datetime" json:"updated_datetime"`
	Description      string `xml:"description" json:"description"`
	ExternalStatus   string `xml:"external_status_code" json:"external_status_code"`
}

func parseUpdates(t *testing.T, format string, res response) []updateEntry {
	t.Helper()
	if res.status != 200 {
		t.Fatalf("servicerequestupdates: %d %s", res.status, res.body)
	}
	var out []updateEntry
	var err error
	if format == "json" {
		err = json.Unmarshal([]byte(res.body), &out)
	} else {
		var x struct {
			Updates []updateEntry `xml:"request_update"`
		}
		err = xml.Unmarshal([]byte(res.body), &x)
		out = x.Updates
	}
	if err != nil {
		t.Fatalf("servicerequestupdates: %v: %s", err, res.body)
	}
	return out
}

var _ = fmt.Sprint
