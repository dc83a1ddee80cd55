package metrics

import (
	"context"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	intake "github.com/hotline12345/intake-gateway"
)

// BacklogSource is what the backlog gauges read from the store.
type BacklogSource interface {
	DeliveryBacklog(ctx context.Context) ([]intake.DeliveryBacklog, error)
}

// BacklogOptions tune the backlog collector.
type BacklogOptions struct {
	// Targets are the configured case systems: each gets its gauges (at zero) even when nothing
	// waits for it, so an alert on them sees a value rather than an absent series.
	Targets []string
	// Timeout bounds the store query of one scrape (default 2 s): a slow database must not
	// make the whole scrape time out.
	Timeout time.Duration
	// Now is the clock the oldest delivery's age is measured with (default time.Now).
	Now func() time.Time
}

// Backlog is a collector that reads the forwarding backlog from the store at scrape time. The
// figures are the database's, so every replica reports the same ones: aggregate them with max,
// not sum.
type Backlog struct {
	src  BacklogSource
	opts BacklogOptions

	queued, oldest, dead, up *prometheus.Desc
}

// NewBacklog builds the collector; register it on the admin registry.
func NewBacklog(src BacklogSource, opts BacklogOptions) *Backlog {
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Backlog{
		src: src, opts: opts,
		queued: prometheus.NewDesc("intake_forward_queued", "Deliveries waiting to be forwarded, by case system.", []string{"target"}, nil),
		oldest: prometheus.NewDesc("intake_forward_oldest_queued_age_seconds", "Age of the oldest delivery waiting to be forwarded, by case system (0 when none waits).", []string{"target"}, nil),
		dead:   prometheus.NewDesc("intake_forward_dead", "Deliveries given up (dead) and not replayed, by case system.", []string{"target"}, nil),
		up:     prometheus.NewDesc("intake_forward_backlog_up", "1 when the backlog figures could be read from the store at this scrape, else 0.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (b *Backlog) Describe(ch chan<- *prometheus.Desc) {
	ch <- b.queued
	ch <- b.oldest
	ch <- b.dead
	ch <- b.up
}

// Collect implements prometheus.Collector.
func (b *Backlog) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), b.opts.Timeout)
	defer cancel()
	rows, err := b.src.DeliveryBacklog(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(b.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(b.up, prometheus.GaugeValue, 1)
	byTarget := make(map[string]intake.DeliveryBacklog, len(rows)+len(b.opts.Targets))
	for _, t := range b.opts.Targets {
		byTarget[t] = intake.DeliveryBacklog{Target: t}
	}
	for _, r := range rows {
		byTarget[r.Target] = r
	}
	now := b.opts.Now()
	for target, r := range byTarget {
		age := 0.0
		if r.Queued > 0 && !r.OldestQueued.IsZero() {
			age = max(now.Sub(r.OldestQueued).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(b.queued, prometheus.GaugeValue, float64(r.Queued), target)
		ch <- prometheus.MustNewConstMetric(b.oldest, prometheus.GaugeValue, age, target)
		ch <- prometheus.MustNewConstMetric(b.dead, prometheus.GaugeValue, float64(r.Dead), target)
	}
}

// RegisterBuildInfo adds intake_build_info{version,go_version} = 1, so dashboards can show which
// build each replica runs and alerts can tell a deploy from a fault.
func RegisterBuildInfo(reg prometheus.Registerer, version string) {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: "intake", Name: "build_info",
		Help:        "The running build: version and Go release as labels; always 1.",
		ConstLabels: prometheus.Labels{"version": version, "go_version": runtime.Version()},
	})
	g.Set(1)
	reg.MustRegister(g)
}
