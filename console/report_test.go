package console_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hotline12345/intake-gateway/console"
	"github.com/hotline12345/intake-gateway/store/storetest"
)

func TestReport(t *testing.T) {
	bothStores(t, console.Options{}, func(t *testing.T, e *env) {
		b := e.browser()
		b.mustLogin("vic")
		now := time.Now().In(storetest.Shanghai)
		from, to := now.AddDate(0, 0, -6).Format("2006-01-02"), now.Format("2006-01-02")
		page := b.get("/console/reports?from=" + from + "&to=" + to)
		if page.status != http.StatusOK || !strings.Contains(page.body, `id="report-total">2<`) || !strings.Contains(page.body, "供水") ||
			!strings.Contains(page.body, "道路") || !strings.Contains(page.body, "50.0%") {
			t.Fatalf("report page: %d\n%s", page.status, page.body)
		}
		// Nothing resolved yet: the rates say so rather than dividing by zero.
		if !strings.Contains(page.body, `id="on-time-rate">—<`) || !strings.Contains(page.body, `id="resolved-rate">0.0%<`) {
			t.Errorf("rates of a period with nothing resolved:\n%s", page.body)
		}
		file := b.get("/console/reports?from=" + from + "&to=" + to + "&format=csv")
		if file.status != http.StatusOK || !strings.HasPrefix(file.header.Get("Content-Type"), "text/csv") {
			t.Fatalf("csv: %d %s", file.status, file.header.Get("Content-Type"))
		}
		rows, err := csv.NewReader(strings.NewReader(file.body)).ReadAll()
		if err != nil {
			t.Fatalf("the CSV does not parse: %v\n%s", err, file.body)
		}
		found := map[string]bool{}
		for _, r := range rows {
			found[strings.Join(r, ",")] = true
		}
		for _, want := range []string{"period," + from + "," + to + ",,", "total,,工单总量,2,", "top_category,water,供水,1,50.0%", "channel,wechat,微信,1,50.0%"} {
			if !found[want] {
				t.Errorf("the CSV lacks the row %q:\n%s", want, file.body)
			}
		}
		for _, q := range []string{"from=yesterday", "from=" + to + "&to=" + from, "from=2020-01-01&to=2026-01-01"} {
			if r := b.get("/console/reports?" + q); r.status != http.StatusBadRequest {
				t.Errorf("?%s: %d, want 400", q, r.status)
			}
		}
		// The default is the last calendar month.
		if r := b.get("/console/reports"); r.status != http.StatusOK || !strings.Contains(r.body, "统计报表") {
			t.Errorf("default report: %d", r.status)
		}
	})
}
