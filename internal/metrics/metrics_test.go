package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	intake "github.com/hotline12345/intake-gateway"
	"github.com/hotline12345/intake-gateway/internal/metrics"
)

type backlog struct {
	rows []intake.DeliveryBacklog
	err  error
}

func (b *backlog) DeliveryBacklog(context.Context) ([]intake.DeliveryBacklog, error) {
	return b.rows, b.err
}

// gather renders every sample of reg as `name{k="v",…} value`, sorted.
func gather(t *testing.T, reg prometheus.Gatherer) []string {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			out = append(out, fmt.Sprintf("%s{%s} %g", f.GetName(), strings.Join(labels, ","), v))
		}
	}
	sort.Strings(out)
	return out
}

func TestBacklogGauges(t *testing.T) {
	now := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	src := &backlog{rows: []intake.DeliveryBacklog{{Target: "crm", Queued: 3, OldestQueued: now.Add(-90 * time.Second), Dead: 2}}}
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewBacklog(src, metrics.BacklogOptions{Targets: []string{"crm", "erp"}, Now: func() time.Time { return now }}))
	want := []string{
		`intake_forward_backlog_up{} 1`,
		`intake_forward_dead{target="crm"} 2`,
		`intake_forward_dead{target="erp"} 0`,
		`intake_forward_oldest_queued_age_seconds{target="crm"} 90`,
		`intake_forward_oldest_queued_age_seconds{target="erp"} 0`,
		`intake_forward_queued{target="crm"} 3`,
		`intake_forward_queued{target="erp"} 0`,
	}
	if got := gather(t, reg); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A store that cannot answer: the scrape still succeeds and says so.
	src.err = errors.New("database down")
	if got := gather(t, reg); fmt.Sprint(got) != "[intake_forward_backlog_up{} 0]" {
		t.Fatalf("store down: %v", got)
	}
}

// TestCategoryLabelsAreBounded: categories past the cap count as "other", so free-text
// categories cannot grow the metrics without end; known targets' series exist from the start.
func TestCategoryLabelsAreBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, "crm")
	for i := range 150 {
		c := &intake.Case{Channel: intake.ChannelREST}
		c.Classification.Category = fmt.Sprintf("cat-%d", i)
		m.CaseCreated(c)
	}
	var cases, forwarded int
	other := ""
	for _, s := range gather(t, reg) {
		switch {
		case strings.HasPrefix(s, "intake_cases_created_total{"):
			cases++
			if strings.Contains(s, `category="other"`) {
				other = s
			}
		case strings.HasPrefix(s, `intake_forward_attempts_total{outcome=`) && strings.Contains(s, `target="crm"`):
			forwarded++
		}
	}
	if cases != 101 || other != `intake_cases_created_total{category="other",channel="rest"} 50` {
		t.Fatalf("%d case series (want 100 categories and other), other: %q", cases, other)
	}
	if forwarded != 4 {
		t.Fatalf("forwarding series at start: %d, want 4", forwarded)
	}
}
