package api_test

import (
	"context"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/api"
)

func TestDeliveryReplayIsAudited(t *testing.T) {
	e := newEnv(t, func(d *api.Deps) { d.Audit = d.Store.(api.Auditor) })
	created := e.submit(`{"text":"排水沟堵了"}`, nil).json(t)
	did := created["deliveries"].([]any)[0].(map[string]any)["id"].(string)
	if err := e.store.RecordOutcome(context.Background(), intake.DeliveryOutcome{DeliveryID: did, CaseID: created["id"].(string),
		Event: intake.EventCaseCreated, Attempt: 1, At: time.Now(), StatusCode: 400, State: intake.DeliveryDead}); err != nil {
		t.Fatal(err)
	}
	if r := e.do("POST", "/v1/deliveries/"+did+"/retry", readKey, "", nil, nil); r.status != 403 {
		t.Fatalf("retry with a read key: %d", r.status)
	}
	if r := e.do("POST", "/v1/deliveries/"+did+"/retry", adminKey, "", nil, nil); r.status != 202 {
		t.Fatalf("retry: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/deliveries/"+did+"/retry", adminKey, "", nil, nil); r.status != 409 {
		t.Fatalf("second retry: %d", r.status)
	}
	page, err := e.db.ListAudit(context.Background(), intake.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	// Only the replay that happened is in the log: the refused ones changed nothing.
	if len(page.Entries) != 1 {
		t.Fatalf("audit entries %+v", page.Entries)
	}
	got := page.Entries[0]
	if got.Action != intake.AuditDeliveryRetry || got.Actor != "ops" || got.ActorKind != intake.ActorAPIKey ||
		got.Target != "delivery:"+did || got.RemoteAddr != "127.0.0.1" {
		t.Fatalf("replay audited as %+v", got)
	}
}
