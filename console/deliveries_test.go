package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/console"
)

func TestDeliveriesPageAndRetry(t *testing.T) {
	bothStores(t, console.Options{}, func(t *testing.T, e *env) {
		ctx := context.Background()
		ds, err := e.store.Deliveries(ctx, e.plain.ID)
		if err != nil || len(ds) != 1 {
			t.Fatalf("fixture deliveries %v %v", ds, err)
		}
		d := ds[0]
		if err := e.store.RecordOutcome(ctx, intake.DeliveryOutcome{DeliveryID: d.ID, CaseID: d.CaseID, Event: d.Event, Attempt: 1,
			At: time.Now(), StatusCode: 400, Error: "400 Bad Request", State: intake.DeliveryDead}); err != nil {
			t.Fatal(err)
		}
		retry := "/console/deliveries/" + d.ID + "/retry"
		viewer := e.browser()
		token := viewer.mustLogin("vic")
		list := viewer.get("/console/deliveries")
		if list.status != http.StatusOK || !strings.Contains(list.body, "400 Bad Request") || strings.Contains(list.body, `class="retry"`) {
			t.Fatalf("viewer's dead deliveries: %d\n%s", list.status, list.body)
		}
		if r := viewer.post(retry, url.Values{"csrf": {token}}); r.status != http.StatusForbidden {
			t.Fatalf("viewer retry: %d", r.status)
		}
		if got, _ := e.store.GetDelivery(ctx, d.ID); got.State != intake.DeliveryDead {
			t.Fatalf("a viewer's retry changed the delivery to %s", got.State)
		}
		op := e.browser()
		token = op.mustLogin("olga")
		if r := op.post(retry, url.Values{}); r.status != http.StatusForbidden {
			t.Fatalf("retry without a token: %d", r.status)
		}
		if !strings.Contains(op.get("/console/deliveries").body, `action="`+retry+`"`) {
			t.Fatal("the operator is offered no retry button")
		}
		r := op.post(retry, url.Values{"csrf": {token}})
		if r.status != http.StatusOK || r.url != "/console/deliveries" {
			t.Fatalf("retry: %d at %s", r.status, r.url)
		}
		if got, _ := e.store.GetDelivery(ctx, d.ID); got.State != intake.DeliveryQueued {
			t.Fatalf("after the retry the delivery is %s", got.State)
		}
		entries := e.audit(intake.AuditDeliveryRetry)
		if len(entries) != 1 || entries[0].Actor != "olga" || entries[0].Target != "delivery:"+d.ID || entries[0].RemoteAddr != "127.0.0.1" {
			t.Fatalf("retry audited as %+v", entries)
		}
		if r := op.post(retry, url.Values{"csrf": {token}}); r.status != http.StatusConflict {
			t.Fatalf("retrying a queued delivery: %d", r.status)
		}
		if r := op.post("/console/deliveries/01900000-0000-7000-8000-000000000000/retry", url.Values{"csrf": {token}}); r.status != http.StatusNotFound {
			t.Fatalf("retrying an unknown delivery: %d", r.status)
		}
		if r := op.get("/console/deliveries?state=limbo"); r.status != http.StatusBadRequest {
			t.Fatalf("unknown state: %d", r.status)
		}
		if n := len(e.audit(intake.AuditDeliveryRetry)); n != 1 {
			t.Fatalf("refused retries were audited: %d entries", n)
		}
	})
}
