package open311_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/api"
	"github.com/hotline12345/intake-gateway/open311"
)

// downStore is a store that cannot be reached.
type downStore struct{}

var errDown = fmt.Errorf("dial: %w", intake.ErrUnavailable)

func (downStore) GetCase(context.Context, string) (*intake.Case, error) { return nil, errDown }
func (downStore) MessageContext(context.Context, intake.MessageQuery) (intake.MessageContext, error) {
	return intake.MessageContext{}, errDown
}
func (downStore) SearchRequests(context.Context, intake.RequestSearch) ([]*intake.Case, error) {
	return nil, errDown
}
func (downStore) StatusUpdates(context.Context, intake.UpdateQuery) ([]intake.StatusUpdate, error) {
	return nil, errDown
}

type downSubmitter struct{}

func (downSubmitter) Submit(context.Context, intake.Submission) (intake.Receipt, error) {
	return intake.Receipt{}, errDown
}

// TestStoreDownIs503: nothing is acknowledged when the store is down; the client gets a 503 in
// the spec's error format and retries.
func TestStoreDownIs503(t *testing.T) {
	h, err := open311.New(open311.Deps{
		Store: downStore{}, Submitter: downSubmitter{}, Services: services(t),
		Keys: api.NewAuthenticator([]api.APIKey{{Name: "fms", SHA256: keyHash(fmsKey), Scopes: []string{api.ScopeSubmit}}}),
	}, open311.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	e := &env{srv: srv}
	for _, res := range []response{
		e.postForm(t, "/open311/v2/requests.xml", goodForm().Encode()),
		e.read(t, "/open311/v2/requests.xml"),
		e.read(t, "/open311/v2/requests/WH2026120400001.xml"),
		e.read(t, "/open311/v2/servicerequestupdates.xml"),
	} {
		if res.status != 503 {
			t.Fatalf("store down: %d %s", res.status, res.body)
		}
		errorDescriptions(t, "xml", res)
	}
}
