package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
)

func TestCaseEvents(t *testing.T) {
	e := newEnv(t)
	created := e.submit(`{"text":"路灯坏了"}`, nil).json(t)
	id, caseNo := created["id"].(string), created["case_no"].(string)
	post := func(key, ref, body string) resp {
		return e.do("POST", "/v1/cases/"+ref+"/events", key, "application/json", []byte(body), nil)
	}
	at := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(time.RFC3339) }

	// The case system's clock runs two seconds behind ours: its event still counts.
	r := post(eventsKey, caseNo, fmt.Sprintf(`{"event_id":"ev-1","type":"accepted","at":%q,"department":"市城管局"}`, at(-2*time.Second)))
	if r.status != 200 || r.json(t)["applied"] != true || r.json(t)["status"] != "accepted" {
		t.Fatalf("accepted: %d %s", r.status, r.body)
	}
	if r := post(eventsKey, id, fmt.Sprintf(`{"event_id":"ev-1","type":"accepted","at":%q}`, at(-2*time.Second))); r.json(t)["applied"] != false {
		t.Fatalf("repeated event: %s", r.body)
	}
	// resolved (later) arrives before assigned (earlier): the case stays resolved.
	post(eventsKey, id, fmt.Sprintf(`{"event_id":"ev-3","type":"resolved","at":%q,"message":"已修复"}`, at(40*time.Second)))
	r = post(eventsKey, id, fmt.Sprintf(`{"event_id":"ev-2","type":"assigned","at":%q}`, at(30*time.Second)))
	if r.json(t)["status"] != "resolved" {
		t.Fatalf("out of order: %s", r.body)
	}
	if r := post(eventsKey, id, fmt.Sprintf(`{"event_id":"ev-4","type":"progress","at":%q,"message":"回访中"}`, at(50*time.Second))); r.json(t)["status"] != "resolved" {
		t.Fatalf("progress changed the status: %s", r.body)
	}
	g := e.do("GET", "/v1/cases/"+id, readKey, "", nil, nil).json(t)
	hist := g["status_history"].([]any)
	var events []string
	for _, h := range hist {
		events = append(events, h.(map[string]any)["event"].(string))
	}
	if strings.Join(events, ",") != "accepted,received,assigned,resolved,progress" {
		t.Fatalf("history %v", events)
	}

	for name, tc := range map[string]struct {
		key, ref, body string
		status         int
	}{
		"unknown type":  {eventsKey, id, fmt.Sprintf(`{"event_id":"x","type":"vanished","at":%q}`, at(0)), 400},
		"no event id":   {eventsKey, id, fmt.Sprintf(`{"event_id":"","type":"closed","at":%q}`, at(0)), 400},
		"future":        {eventsKey, id, fmt.Sprintf(`{"event_id":"x","type":"closed","at":%q}`, at(time.Hour)), 400},
		"bad time":      {eventsKey, id, `{"event_id":"x","type":"closed","at":"soon"}`, 400},
		"unknown field": {eventsKey, id, fmt.Sprintf(`{"event_id":"x","type":"closed","at":%q,"secret":1}`, at(0)), 400},
		"long message":  {eventsKey, id, fmt.Sprintf(`{"event_id":"x","type":"closed","at":%q,"message":%q}`, at(0), strings.Repeat("x", 2001)), 400},
		"unknown case":  {eventsKey, "WH2099010100009", fmt.Sprintf(`{"event_id":"x","type":"closed","at":%q}`, at(0)), 404},
		"submit key":    {submitKey, id, fmt.Sprintf(`{"event_id":"x","type":"closed","at":%q}`, at(0)), 403},
		"no key":        {"", id, fmt.Sprintf(`{"event_id":"x","type":"closed","at":%q}`, at(0)), 401},
	} {
		t.Run(name, func(t *testing.T) {
			e.t = t
			if r := post(tc.key, tc.ref, tc.body); r.status != tc.status {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
	e.t = t
	if g := e.do("GET", "/v1/cases/"+id, readKey, "", nil, nil).json(t); len(g["status_history"].([]any)) != 5 {
		t.Fatal("a rejected event was recorded")
	}
}

func TestDeliveriesEndpoints(t *testing.T) {
	e := newEnv(t)
	created := e.submit(`{"text":"排水沟堵了"}`, nil).json(t)
	d := created["deliveries"].([]any)[0].(map[string]any)
	did, cid := d["id"].(string), created["id"].(string)

	list := func(q string) []any {
		r := e.do("GET", "/v1/deliveries"+q, readKey, "", nil, nil)
		if r.status != 200 {
			t.Fatalf("list %s: %d %s", q, r.status, r.body)
		}
		return r.json(t)["deliveries"].([]any)
	}
	if n := len(list("?state=dead")); n != 0 {
		t.Fatalf("%d dead before any failure", n)
	}
	if err := e.store.RecordOutcome(context.Background(), intake.DeliveryOutcome{DeliveryID: did, CaseID: cid, Event: intake.EventCaseCreated,
		Attempt: 1, At: time.Now(), StatusCode: 400, Error: "400 Bad Request", State: intake.DeliveryDead}); err != nil {
		t.Fatal(err)
	}
	dead := list("?state=dead")
	if len(dead) != 1 || dead[0].(map[string]any)["id"] != did {
		t.Fatalf("dead list %v", dead)
	}
	one := e.do("GET", "/v1/deliveries/"+did, readKey, "", nil, nil).json(t)
	if h := one["history"].([]any); len(h) != 1 || h[0].(map[string]any)["status_code"] != float64(400) {
		t.Fatalf("history %v", one["history"])
	}
	if r := e.do("POST", "/v1/deliveries/"+did+"/retry", readKey, "", nil, nil); r.status != 403 {
		t.Fatalf("retry needs admin: %d", r.status)
	}
	r := e.do("POST", "/v1/deliveries/"+did+"/retry", adminKey, "", nil, nil)
	if r.status != 202 || r.json(t)["state"] != "queued" {
		t.Fatalf("retry: %d %s", r.status, r.body)
	}
	if r := e.do("POST", "/v1/deliveries/"+did+"/retry", adminKey, "", nil, nil); r.status != 409 {
		t.Fatalf("retrying a queued delivery: %d", r.status)
	}
	if r := e.do("GET", "/v1/deliveries/nope", readKey, "", nil, nil); r.status != 404 {
		t.Fatalf("unknown delivery: %d", r.status)
	}
	if r := e.do("GET", "/v1/deliveries?state=limbo", readKey, "", nil, nil); r.status != 400 {
		t.Fatalf("bad state: %d", r.status)
	}
	if e.countJobs() != 2 {
		t.Fatalf("jobs %d, want the first and the replay", e.countJobs())
	}
	var _ = json.Marshal
}

// The case system's texts reach the citizen and the record cleaned like every other text.
func TestCaseEventTextsAreCleaned(t *testing.T) {
	e := newEnv(t)
	r := e.submit(`{"text":"路灯坏了","channel":"sms"}`, nil)
	id := r.json(t)["id"].(string)
	body := `{"event_id":"ctl-1","type":"assigned","at":"2026-11-27T10:00:00+08:00","department":"市\u0007城管局","message":"已派\u001b人\u200b处理"}`
	if r := e.do("POST", "/v1/cases/"+id+"/events", eventsKey, "application/json", []byte(body), nil); r.status != 200 {
		t.Fatalf("event: %d %s", r.status, r.body)
	}
	c, err := e.store.GetCase(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range c.StatusHistory {
		if h.EventID == "ctl-1" {
			if h.Department != "市城管局" || h.Message != "已派人处理" {
				t.Fatalf("stored %q %q", h.Department, h.Message)
			}
			return
		}
	}
	t.Fatalf("event not in the history: %+v", c.StatusHistory)
}
