package open311_test

import (
	"strings"
	"testing"

	"github.com/hotline12345/intake-gateway/internal/coretest"
)

// A request's description and address are a citizen's words about where they live: by default
// only the client that filed a request reads it back, and a read without a key is refused.
func TestReadsShowOnlyTheFilingClientsRequests(t *testing.T) {
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		id := createdID(t, e.postForm(t, "/open311/v2/requests.xml", goodForm().Encode()))

		for path, want := range map[string]int{
			"/open311/v2/requests.json":                           403,
			"/open311/v2/requests/" + id + ".json":                403,
			"/open311/v2/servicerequestupdates.json":              403,
			"/open311/v2/requests.json?api_key=forged":            403,
			"/open311/v2/requests/" + id + ".json?api_key=forged": 403,
		} {
			if res := e.get(t, path); res.status != want {
				t.Errorf("%s: %d, want %d: %s", path, res.status, want, res.body)
			}
		}
		// Another client's key is valid but shows nothing of this request.
		if res := e.readAs(t, readerKey, "/open311/v2/requests/"+id+".json"); res.status != 404 {
			t.Errorf("another client reading the request: %d %s", res.status, res.body)
		}
		if list := jsonList(t, e.readAs(t, readerKey, "/open311/v2/requests.json")); len(list) != 0 {
			t.Errorf("another client lists %d requests", len(list))
		}
		if list := jsonList(t, e.readAs(t, readerKey, "/open311/v2/requests.json?service_request_id="+id)); len(list) != 0 {
			t.Errorf("another client finds the request by its number: %v", list)
		}
		// The filing client sees it.
		if list := jsonList(t, e.read(t, "/open311/v2/requests.json")); len(list) != 1 || list[0]["service_request_id"] != id {
			t.Errorf("the filing client lists %v", list)
		}
		if res := e.read(t, "/open311/v2/requests/"+id+".json"); res.status != 200 || !strings.Contains(res.body, id) {
			t.Errorf("the filing client reading its request: %d %s", res.status, res.body)
		}
	})
}

// With public reads (the spec's open model) anyone reads every Open311 request without a key.
func TestPublicReadsNeedNoKey(t *testing.T) {
	e := newEnvWith(t, coretest.SQLite, nil, true)
	id := createdID(t, e.postForm(t, "/open311/v2/requests.xml", goodForm().Encode()))
	if list := jsonList(t, e.get(t, "/open311/v2/requests.json")); len(list) != 1 || list[0]["service_request_id"] != id {
		t.Fatalf("public list: %v", list)
	}
	if res := e.get(t, "/open311/v2/requests/"+id+".json"); res.status != 200 {
		t.Fatalf("public read: %d %s", res.status, res.body)
	}
}
