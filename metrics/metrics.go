// Package metrics declares the gateway's own Prometheus collectors. Collectors are registered on
// a registry passed in, never the global one, so tests and several servers in one process do not
// collide.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	intake "github.com/hotline12345/intake-gateway"
)

// Metrics are the gateway's domain counters.
type Metrics struct {
	CasesCreated *prometheus.CounterVec
	Duplicates   *prometheus.CounterVec
}

// New registers the collectors on reg.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		CasesCreated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "intake", Name: "cases_created_total",
			Help: "Cases created, by channel kind.",
		}, []string{"channel"}),
		Duplicates: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "intake", Name: "submissions_replayed_total",
			Help: "Submissions recognised as retries of a stored case, by channel kind.",
		}, []string{"channel"}),
	}
	reg.MustRegister(m.CasesCreated, m.Duplicates)
	return m
}

// CaseCreated counts a new case (accept.Observer).
func (m *Metrics) CaseCreated(c *intake.Case) { m.CasesCreated.WithLabelValues(string(c.Channel)).Inc() }

// CaseReplayed counts a retry answered with an existing case.
func (m *Metrics) CaseReplayed(c *intake.Case) { m.Duplicates.WithLabelValues(string(c.Channel)).Inc() }
