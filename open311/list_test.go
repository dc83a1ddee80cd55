package open311_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/coretest"
)

// TestListFilters: GET requests filters by id list (which overrides the rest), service_code,
// status and period, newest first; requests of other channels never appear, not even by their
// case number.
func TestListFilters(t *testing.T) {
	coretest.ForEachStore(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		c := georeport{base: e.srv.URL + "/open311/v2", apiKey: fmsKey, format: "json"}
		file := func(service, desc string) string {
			t.Helper()
			id, _, err := c.create(service, url.Values{"address_string": {"文化路" + desc}, "description": {desc},
				"attribute[address_detail]": {"1号楼"}})
			if err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Hour)
			return id
		}
		a := file("cityscape", "路灯不亮")
		b := file("transport", "公交站牌倒了")
		cc := file("cityscape", "井盖丢失")
		d := file("utilities", "停水")
		e.report(t, b, "ev-b", "closed", "", "已处理", e.clock.Now())
		e.report(t, cc, "ev-c", "resolved", "", "已补装", e.clock.Now())
		// A case from the REST API: not an Open311 request.
		rest, err := e.svc.Submit(context.Background(), intake.Submission{Channel: intake.ChannelREST, ChannelID: "rest:crm",
			ExternalID: "r1", Text: "文化路路灯不亮", Location: &intake.Location{Address: "文化路"}})
		if err != nil {
			t.Fatal(err)
		}

		ids := func(q url.Values) []string {
			t.Helper()
			list, err := c.requests(q)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range list {
				out = append(out, r.ServiceRequestID)
			}
			return out
		}
		check := func(what string, got []string, want ...string) {
			t.Helper()
			if !slices.Equal(got, want) {
				t.Fatalf("%s: %v, want %v", what, got, want)
			}
		}
		check("all, newest first", ids(nil), d, cc, b, a)
		check("service_code", ids(url.Values{"service_code": {"cityscape"}}), cc, a)
		check("open", ids(url.Values{"status": {"open"}}), d, a)
		check("closed", ids(url.Values{"status": {"closed"}}), cc, b)
		check("open,closed", ids(url.Values{"status": {"open,closed"}}), d, cc, b, a)
		check("status given twice", ids(url.Values{"status": {"open", "closed"}}), d, cc, b, a)
		check("closed cityscape", ids(url.Values{"status": {"closed"}, "service_code": {"cityscape"}}), cc)
		check("period", ids(url.Values{
			"start_date": {t0.Add(time.Hour).Format(time.RFC3339)}, "end_date": {t0.Add(2 * time.Hour).Format(time.RFC3339)},
		}), cc, b)
		check("W3C times without seconds", ids(url.Values{"start_date": {"2026-12-04T10:30+08:00"}, "end_date": {"2026-12-04T11:30+08:00"}}), cc, b)
		check("before the period", ids(url.Values{"end_date": {t0.Add(-time.Minute).Format(time.RFC3339)}}))
		check("id list overrides the other filters", ids(url.Values{
			"service_request_id": {a + "," + d + ", " + rest.Case.CaseNo}, "service_code": {"transport"}, "status": {"closed"},
		}), d, a)
		if _, err := c.request(rest.Case.CaseNo); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
			t.Fatalf("another channel's case by its number: %v", err)
		}
		if _, err := c.request(rest.Case.ID); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
			t.Fatalf("a case by its internal id: %v", err)
		}
		got, err := c.request(b)
		if err != nil || got.Status != "closed" || got.StatusNotes != "已处理" {
			t.Fatalf("closed request: %+v %v", got, err)
		}
	})
}
