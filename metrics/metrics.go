// Package metrics declares the gateway's own Prometheus collectors. Collectors are registered on
// a registry passed in, never the global one, so tests and several servers in one process do not
// collide.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	intake "github.com/hotline12345/intake-gateway"
)

// Metrics are the gateway's domain counters.
type Metrics struct {
	CasesCreated *prometheus.CounterVec
	Duplicates   *prometheus.CounterVec
	BatchSize    prometheus.Histogram
	CommitTime   *prometheus.HistogramVec
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
	m.BatchSize = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "intake", Subsystem: "store", Name: "batch_size",
		Help:    "Submissions committed together in one group-commit transaction.",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
	})
	m.CommitTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "intake", Subsystem: "store", Name: "commit_seconds",
		Help:    "Duration of group-commit transactions, by outcome.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
	}, []string{"outcome"})
	reg.MustRegister(m.CasesCreated, m.Duplicates, m.BatchSize, m.CommitTime)
	return m
}

// ObserveBatch records one group commit (store.Options.ObserveBatch).
func (m *Metrics) ObserveBatch(size int, took time.Duration, err error) {
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.BatchSize.Observe(float64(size))
	m.CommitTime.WithLabelValues(outcome).Observe(took.Seconds())
}

// CaseCreated counts a new case (accept.Observer).
func (m *Metrics) CaseCreated(c *intake.Case) {
	m.CasesCreated.WithLabelValues(string(c.Channel)).Inc()
}

// CaseReplayed counts a retry answered with an existing case.
func (m *Metrics) CaseReplayed(c *intake.Case) { m.Duplicates.WithLabelValues(string(c.Channel)).Inc() }
