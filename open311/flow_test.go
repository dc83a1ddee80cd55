package open311_test

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/coretest"
)

// TestFileAndFollowARequest: an independent client files a request in each format, reads it
// back, and follows the case system's events through GET requests/{id} and
// servicerequestupdates, on both stores.
func TestFileAndFollowARequest(t *testing.T) {
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		for i, format := range []string{"xml", "json"} {
			t.Run(format, func(t *testing.T) {
				c := georeport{base: e.srv.URL + "/open311/v2", apiKey: fmsKey, format: format}
				filed := e.clock.Now()
				desc := fmt.Sprintf("文化路%d号门口的路灯坏了一个星期，晚上很黑。", 10+i)
				id, notice, err := c.create("cityscape", url.Values{
					"jurisdiction_id": {"12345.example.gov.cn"},
					"lat":             {"37.5131"}, "long": {"122.1203"},
					"address_string": {"文化路12号"},
					"description":    {desc},
					"first_name":     {"明"}, "last_name": {"李"},
					"phone":                     {"13800138000"},
					"email":                     {"li.ming@example.com"},
					"account_id":                {"fms-user-7"},
					"media_url":                 {"https://fms.example.org/photo/42.jpeg"},
					"attribute[address_detail]": {"文化路与新华街交叉口东北角"},
					"attribute[fixmystreet_id]": {"42"},
				})
				if err != nil {
					t.Fatal(err)
				}
				if !regexp.MustCompile(`^WH20261204\d{5}$`).MatchString(id) {
					t.Fatalf("service_request_id %q is not a case number", id)
				}
				if !strings.Contains(notice, id) || !strings.Contains(notice, "查询码") {
					t.Fatalf("service_notice %q does not give the case number and query code", notice)
				}

				got, err := c.request(id)
				if err != nil {
					t.Fatal(err)
				}
				if got.ServiceRequestID != id || got.Status != "open" || got.ServiceCode != "cityscape" || got.ServiceName != "市容环境" ||
					got.Description != desc || got.Address != "文化路12号" || got.Lat != 37.5131 || got.Long != 122.1203 ||
					got.MediaURL != "https://fms.example.org/photo/42.jpeg" || got.AgencyResponsible != "" || got.StatusNotes != "" {
					t.Fatalf("read back: %+v", got)
				}
				if got.RequestedDatetime != filed.In(cst).Format(time.RFC3339) || !strings.HasSuffix(got.RequestedDatetime, "+08:00") {
					t.Fatalf("requested_datetime %q, want the hotline's time with its zone", got.RequestedDatetime)
				}
				expected, err := time.Parse(time.RFC3339, got.ExpectedDatetime)
				if err != nil || !expected.After(filed) || !strings.HasSuffix(got.ExpectedDatetime, "+08:00") {
					t.Fatalf("expected_datetime %q (from due_at) must be a zoned time after the request: %v", got.ExpectedDatetime, err)
				}

				// The case is an ordinary case of channel open311, forwarded like any other.
				stored, err := e.core.Store.GetCase(context.Background(), id)
				if err != nil {
					t.Fatal(err)
				}
				if stored.Channel != intake.ChannelOpen311 || stored.ChannelID != "open311:fms" || stored.Classification.Category != "cityscape" ||
					stored.Citizen.Name != "李明" || stored.Citizen.Phone != "+8613800138000" || stored.DueAt == nil ||
					stored.Metadata["open311_email"] != "li.ming@example.com" || stored.Metadata["open311_account_id"] != "fms-user-7" ||
					stored.Metadata["open311_attribute.address_detail"] != "文化路与新华街交叉口东北角" || stored.Metadata["open311_attribute.fixmystreet_id"] != "42" ||
					stored.Metadata["open311_jurisdiction_id"] != "12345.example.gov.cn" {
					t.Fatalf("stored case: %+v", stored)
				}
				if ds, err := e.core.Store.Deliveries(context.Background(), stored.ID); err != nil || len(ds) != 1 || ds[0].Event != intake.EventCaseCreated {
					t.Fatalf("the case must be queued for the case system: %+v %v", ds, err)
				}

				// The case system's events come back through the request and the updates.
				from := e.clock.Now()
				e.clock.Advance(time.Hour)
				e.report(t, id, "ev-a-"+format, "assigned", "环翠区城管执法局", "已派单，将于两个工作日内处理", e.clock.Now())
				e.clock.Advance(time.Hour)
				e.report(t, id, "ev-p-"+format, "progress", "", "已到现场查看", e.clock.Now())
				got, err = c.request(id)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != "open" || got.AgencyResponsible != "环翠区城管执法局" || got.StatusNotes != "已到现场查看" ||
					got.UpdatedDatetime != e.clock.Now().In(cst).Format(time.RFC3339) {
					t.Fatalf("after assigned and progress: %+v", got)
				}
				e.clock.Advance(time.Hour)
				e.report(t, id, "ev-r-"+format, "resolved", "", "路灯已修复", e.clock.Now())
				got, err = c.request(id)
				if err != nil {
					t.Fatal(err)
				}
				if got.Status != "closed" || got.StatusNotes != "路灯已修复" || got.AgencyResponsible != "环翠区城管执法局" {
					t.Fatalf("after resolved: %+v", got)
				}

				res := e.get(t, "/open311/v2/servicerequestupdates."+format+"?"+url.Values{
					"start_date": {from.In(cst).Format(time.RFC3339)}, "end_date": {e.clock.Now().Format(time.RFC3339)},
					"api_key": {fmsKey}, "jurisdiction_id": {"12345.example.gov.cn"},
				}.Encode())
				ups := parseUpdates(t, format, res)
				var seen []string
				ids := map[string]bool{}
				for _, u := range ups {
					if u.ServiceRequestID != id {
						continue
					}
					seen = append(seen, u.Status+"|"+u.Description+"|"+u.UpdatedDatetime)
					if u.UpdateID == "" || ids[u.UpdateID] {
						t.Fatalf("update without its own update_id: %+v", u)
					}
					ids[u.UpdateID] = true
				}
				at := func(h int) string { return from.Add(time.Duration(h) * time.Hour).In(cst).Format(time.RFC3339) }
				want := []string{
					"in_progress|已派单，将于两个工作日内处理|" + at(1),
					"in_progress|已到现场查看|" + at(2),
					"fixed|路灯已修复|" + at(3),
				}
				if strings.Join(seen, "\n") != strings.Join(want, "\n") {
					t.Fatalf("servicerequestupdates:\n%s\nwant\n%s\n(body %s)", strings.Join(seen, "\n"), strings.Join(want, "\n"), res.body)
				}
			})
		}
	})
}

// TestDuplicatePostReturnsTheFirstRequest: the same key, description and location within the
// window are the request already filed, also across the window's internal boundary and when
// copies race; after the window, or from another client or place, it is a new request.
func TestDuplicatePostReturnsTheFirstRequest(t *testing.T) {
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		// Seven minutes into the duplicate key's ten-minute slot, so that later copies fall in
		// the next slot and are found there.
		e.clock.Advance(7 * time.Minute)
		form := "api_key=" + fmsKey + "&service_code=environment&lat=37.5&long=122.1&description=" +
			url.QueryEscape("楼下饭店油烟很大，每天中午和晚上都熏得开不了窗。")
		first := createdID(t, e.postForm(t, "/open311/v2/requests.json", form))

		// Copies racing each other make one case.
		done := make(chan string, 4)
		for range 4 {
			go func() {
				res := e.postForm(t, "/open311/v2/requests.json", form+"&attribute[pollution_kind]=smoke")
				if res.status != 200 {
					done <- fmt.Sprintf("status %d: %s", res.status, res.body)
					return
				}
				done <- res.body
			}()
		}
		for range 4 {
			if body := <-done; !strings.Contains(body, first) {
				t.Fatalf("a concurrent copy did not return the first request %s: %s", first, body)
			}
		}
		for _, step := range []time.Duration{4 * time.Minute, 5 * time.Minute} {
			e.clock.Advance(step)
			if id := createdID(t, e.postForm(t, "/open311/v2/requests.xml", form)); id != first {
				t.Fatalf("a copy %s after the first: %s, want %s", e.clock.Now().Sub(t0), id, first)
			}
		}
		if n := len(e.cases(t)); n != 1 {
			t.Fatalf("%d cases from copies of one request", n)
		}
		other := createdID(t, e.postForm(t, "/open311/v2/requests.json", strings.Replace(form, "lat=37.5", "lat=37.6", 1)))
		if other == first {
			t.Fatal("another location is another request")
		}
		e.clock.Advance(11 * time.Minute)
		if later := createdID(t, e.postForm(t, "/open311/v2/requests.json", form)); later == first || later == other {
			t.Fatalf("after the window the same text is a new request, got %s", later)
		}
		if n := len(e.cases(t)); n != 3 {
			t.Fatalf("%d cases, want 3", n)
		}
	})
}

// createdID reads the service_request_id of a POST answer in either format.
func createdID(t *testing.T, res response) string {
	t.Helper()
	if res.status != 200 {
		t.Fatalf("POST: %d %s", res.status, res.body)
	}
	m := regexp.MustCompile(`"service_request_id":"([^"]+)"|<service_request_id>([^<]+)</service_request_id>`).FindStringSubmatch(res.body)
	if m == nil {
		t.Fatalf("no service_request_id in %s", res.body)
	}
	return m[1] + m[2]
}
