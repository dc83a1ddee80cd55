// Package metrics declares the gateway's own Prometheus collectors. Collectors are registered on
// a registry passed in, never the global one, so tests and several servers in one process do not
// collide.
package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	intake "github.com/hotline12345/intake-gateway"
)

// Metrics are the gateway's domain counters.
type Metrics struct {
	CasesCreated  *prometheus.CounterVec
	Duplicates    *prometheus.CounterVec
	BatchSize     prometheus.Histogram
	CommitTime    *prometheus.HistogramVec
	Forwarded     *prometheus.CounterVec
	ForwardTime   *prometheus.HistogramVec
	BreakerState  *prometheus.GaugeVec
	Classify      prometheus.Histogram
	Notifications *prometheus.CounterVec

	categories labelSet
}

// maxCategories bounds the category label values: an operator-entered category is free text,
// and an unbounded label would let a client grow the metrics without end.
const maxCategories = 100

// labelSet admits at most max distinct label values; later ones count as "other".
type labelSet struct {
	mu   sync.Mutex
	seen map[string]struct{}
	max  int
}

func (l *labelSet) admit(v string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[v]; ok {
		return v
	}
	if len(l.seen) >= l.max {
		return "other"
	}
	l.seen[v] = struct{}{}
	return v
}

// New registers the collectors on reg. targets are the configured case systems: their
// forwarding series start at zero, as do the other bounded label sets, so that rate() and alerts
// see a value from the first scrape rather than an absent series.
func New(reg prometheus.Registerer, targets ...string) *Metrics {
	m := &Metrics{
		CasesCreated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "intake", Name: "cases_created_total",
			Help: "Cases created, by channel kind and category.",
		}, []string{"channel", "category"}),
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
	m.Forwarded = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "intake", Subsystem: "forward", Name: "attempts_total",
		Help: "Delivery attempts to case systems, by target and outcome (delivered, retry, rejected, error).",
	}, []string{"target", "outcome"})
	m.ForwardTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "intake", Subsystem: "forward", Name: "request_seconds",
		Help:    "Duration of delivery requests to case systems.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
	}, []string{"target"})
	m.BreakerState = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "intake", Subsystem: "forward", Name: "breaker_open",
		Help: "1 while a case system counts as down and deliveries to it wait.",
	}, []string{"target"})
	m.Classify = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: "intake", Name: "classify_seconds",
		Help:    "Time to build a case from a submission: text cleaning and classification (rules and model).",
		Buckets: prometheus.ExponentialBuckets(0.000005, 2, 14),
	})
	m.Notifications = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "intake", Subsystem: "notify", Name: "outcomes_total",
		Help: "Notification sends to citizens, by channel kind and outcome (sent, failed, retry).",
	}, []string{"channel", "outcome"})
	m.categories = labelSet{seen: map[string]struct{}{}, max: maxCategories}
	for _, outcome := range []string{"ok", "error"} {
		m.CommitTime.WithLabelValues(outcome)
	}
	for _, ch := range []intake.ChannelKind{intake.ChannelWeChat, intake.ChannelSMS, intake.ChannelWeibo} {
		for _, outcome := range []string{"sent", "failed", "retry"} {
			m.Notifications.WithLabelValues(string(ch), outcome)
		}
	}
	for _, t := range targets {
		for _, outcome := range []string{"delivered", "retry", "rejected", "error"} {
			m.Forwarded.WithLabelValues(t, outcome)
		}
		m.BreakerState.WithLabelValues(t).Set(0)
	}
	reg.MustRegister(m.CasesCreated, m.Duplicates, m.BatchSize, m.CommitTime, m.Forwarded, m.ForwardTime, m.BreakerState,
		m.Classify, m.Notifications)
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

// CaseCreated counts a new case (app.Observer).
func (m *Metrics) CaseCreated(c *intake.Case) {
	m.CasesCreated.WithLabelValues(string(c.Channel), m.categories.admit(c.Classification.Category)).Inc()
}

// ObserveBuild records the time building one case took (app.IntakeOptions.ObserveBuild).
func (m *Metrics) ObserveBuild(took time.Duration) { m.Classify.Observe(took.Seconds()) }

// Notified counts one notification send (notify.Observer).
func (m *Metrics) Notified(channel intake.ChannelKind, outcome string) {
	m.Notifications.WithLabelValues(string(channel), outcome).Inc()
}

// CaseReplayed counts a retry answered with an existing case.
func (m *Metrics) CaseReplayed(c *intake.Case) { m.Duplicates.WithLabelValues(string(c.Channel)).Inc() }

// Attempted records one delivery attempt (forward.Observer).
func (m *Metrics) Attempted(target, outcome string, took time.Duration) {
	m.Forwarded.WithLabelValues(target, outcome).Inc()
	m.ForwardTime.WithLabelValues(target).Observe(took.Seconds())
}

// BreakerOpen records a case system going down or coming back (forward.Observer).
func (m *Metrics) BreakerOpen(target string, open bool) {
	v := 0.0
	if open {
		v = 1
	}
	m.BreakerState.WithLabelValues(target).Set(v)
}
